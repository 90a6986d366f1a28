/**
 * A small but valid Qwen2-style tokenizer: byte-level BPE with merges learned from MERGE_CORPUS,
 * Qwen2's pre-tokenizer (Split on its regex, then ByteLevel), a ByteLevel decoder, and the three
 * added special tokens; plus a tokenizer_config.json carrying Qwen2's ChatML chat template.
 */
import { QWEN2_MERGE_COUNT, QWEN2_SPECIAL_TOKENS } from './architectures.ts';
import { MERGE_CORPUS } from './corpus.ts';
import { QWEN2_SPLIT_PATTERN, trainByteLevelBpe, type ByteLevelBpe } from './byte-bpe.ts';

export const QWEN2_CHAT_TEMPLATE =
  "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}" +
  "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

let trained: ByteLevelBpe | undefined;

/** The learned BPE (256 byte tokens + QWEN2_MERGE_COUNT merges), computed once per process. */
export function qwen2Bpe(): ByteLevelBpe {
  return (trained ??= trainByteLevelBpe(MERGE_CORPUS, QWEN2_MERGE_COUNT));
}

const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false };

export function qwen2TokenizerJson(): Record<string, unknown> {
  const bpe = qwen2Bpe();
  const specials = Object.entries(QWEN2_SPECIAL_TOKENS);
  if (specials.some(([, id]) => id < bpe.vocab.length)) throw new Error('special token ids overlap the BPE vocab');
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map(([content, id]) => ({
      id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
    })),
    normalizer: { type: 'NFC' },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: QWEN2_SPLIT_PATTERN }, behavior: 'Isolated', invert: false },
        byteLevel,
      ],
    },
    post_processor: byteLevel,
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(bpe.vocab.map((tok, id) => [tok, id])),
      merges: bpe.merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}

export function qwen2TokenizerConfig(): Record<string, unknown> {
  const decoder = Object.fromEntries(Object.entries(QWEN2_SPECIAL_TOKENS).map(([content, id]) => [String(id), {
    content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true,
  }]));
  return {
    add_bos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: decoder,
    additional_special_tokens: ['<|im_start|>', '<|im_end|>'],
    bos_token: null,
    chat_template: QWEN2_CHAT_TEMPLATE,
    clean_up_tokenization_spaces: false,
    eos_token: '<|im_end|>',
    errors: 'replace',
    model_max_length: 512,
    pad_token: '<|endoftext|>',
    split_special_tokens: false,
    tokenizer_class: 'Qwen2Tokenizer',
    unk_token: null,
  };
}
