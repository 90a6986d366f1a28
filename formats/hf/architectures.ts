import { UnsupportedError } from '../errors.ts';
import type { HfConfig } from './config.ts';

/**
 * One row per supported Hugging Face architecture: everything that differs between them is data
 * here, not a code path (llama.cpp's `LlamaModel` / `Qwen2Model` converter classes).
 */
export interface ArchSpec {
  /** `architectures[0]` values in config.json this row handles. */
  hfArchitectures: string[];
  /** `general.architecture` and the prefix of the model's keys. */
  ggufArch: 'llama' | 'qwen2';
  /** Llama stores q/k rows in HF rotate-half order; llama.cpp wants adjacent pairs (see permuteRowsQK). */
  permuteQK: boolean;
  /** q/k/v projections carry biases (Qwen2). Llama biases are still mapped when present. */
  hasQkvBias: boolean;
  /** Writes `{arch}.vocab_size` and `{arch}.rope.dimension_count` (LlamaModel.set_gguf_parameters). */
  writesVocabSizeAndRopeDim: boolean;
  /** transformers' config class defines head_dim (LlamaConfig, MistralConfig), so AutoConfig.to_dict()
   * always has it and convert writes key_length/value_length even when config.json omits it. */
  autoConfigHasHeadDim: boolean;
  /** Tokenizer sources tried in order, as the converter's set_vocab does. */
  vocabOrder: readonly ('sentencepiece' | 'llama-hf' | 'gpt2')[];
  /** Handles `rope_scaling.rope_type == "llama3"` by generating the rope_freqs tensor. */
  llama3RopeFreqs: boolean;
  /** HF tensor names lack the `model.` prefix (bare `LlamaModel` / `Qwen2Model` checkpoints). */
  bareModelPrefix: boolean;
  /** LlamaModel.set_vocab writes `tokenizer.ggml.add_space_prefix` from tokenizer_config's add_prefix_space. */
  addSpacePrefixFromTokenizerConfig: boolean;
  /** AutoConfig defaults for fields config.json may omit. */
  defaults: { ropeTheta: number; contextLength: number };
}

const LLAMA: Omit<ArchSpec, 'hfArchitectures' | 'bareModelPrefix'> = {
  ggufArch: 'llama',
  permuteQK: true,
  hasQkvBias: false,
  writesVocabSizeAndRopeDim: true,
  autoConfigHasHeadDim: true,
  vocabOrder: ['sentencepiece', 'llama-hf', 'gpt2'],
  llama3RopeFreqs: true,
  addSpacePrefixFromTokenizerConfig: true,
  defaults: { ropeTheta: 10000, contextLength: 2048 }, // LlamaConfig
};

const QWEN2: Omit<ArchSpec, 'hfArchitectures' | 'bareModelPrefix'> = {
  ggufArch: 'qwen2',
  permuteQK: false,
  hasQkvBias: true,
  writesVocabSizeAndRopeDim: false,
  autoConfigHasHeadDim: false,
  vocabOrder: ['sentencepiece', 'gpt2'],
  llama3RopeFreqs: false,
  addSpacePrefixFromTokenizerConfig: false,
  defaults: { ropeTheta: 10000, contextLength: 32768 }, // Qwen2Config
};

export const ARCHITECTURES: readonly ArchSpec[] = [
  { ...LLAMA, hfArchitectures: ['LlamaForCausalLM', 'LLaMAForCausalLM', 'MistralForCausalLM'], bareModelPrefix: false },
  { ...LLAMA, hfArchitectures: ['LlamaModel'], bareModelPrefix: true },
  { ...QWEN2, hfArchitectures: ['Qwen2ForCausalLM'], bareModelPrefix: false },
  { ...QWEN2, hfArchitectures: ['Qwen2Model'], bareModelPrefix: true },
];

export const SUPPORTED_ARCHITECTURES: readonly string[] = ARCHITECTURES.flatMap((a) => a.hfArchitectures);

export function archFor(config: HfConfig): ArchSpec {
  const spec = ARCHITECTURES.find((a) => a.hfArchitectures.includes(config.architecture));
  if (!spec) {
    throw new UnsupportedError(
      'UNSUPPORTED_ARCHITECTURE',
      `${config.file}: architecture '${config.architecture}' is not supported; supported: ${SUPPORTED_ARCHITECTURES.join(', ')}`,
      { file: config.file },
    );
  }
  return spec;
}
