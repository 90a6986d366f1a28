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
  /** How the decoder runs (src/model reads these; llama.cpp's llm_build_* for the arch). */
  forward: ForwardFacts;
}

/**
 * Forward-pass facts of an architecture, in GGUF conventions (q/k rows already in llama.cpp's order).
 * Optional tensors (biases, rope_freqs, output.weight) are used whenever the file has them, as
 * llama.cpp's graph builders do; these columns say what the arch requires or how it computes.
 */
export interface ForwardFacts {
  /** RMSNorm before attention and before the MLP, residual after each (pre-norm). */
  norm: 'pre-rms';
  /** LLAMA_ROPE_TYPE_NORM rotates adjacent pairs; NEOX rotates (i, i + n_rot/2). */
  rope: 'normal' | 'neox';
  /** attn_q/k/v biases are required (Qwen2); elsewhere applied when present. */
  qkvBias: boolean;
  /** Without output.weight the logits use token_embd.weight (tied embeddings). */
  tiedOutputFallback: boolean;
  /** rope_freqs.weight (llama3 scaling) divides the rotation frequencies when present. */
  ropeFreqs: boolean;
  /** Scale of the attention scores is 1/sqrt(head_dim) (key_length). */
  attnScale: 'rsqrt-head-dim';
  /** Feed-forward: down(silu(gate(x)) * up(x)). */
  ffn: 'silu-gated';
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
  forward: { norm: 'pre-rms', rope: 'normal', qkvBias: false, tiedOutputFallback: true, ropeFreqs: true, attnScale: 'rsqrt-head-dim', ffn: 'silu-gated' },
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
  forward: { norm: 'pre-rms', rope: 'neox', qkvBias: true, tiedOutputFallback: true, ropeFreqs: false, attnScale: 'rsqrt-head-dim', ffn: 'silu-gated' },
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

/** The first row writing `general.architecture` = ggufArch (a GGUF names its arch, not its HF class). */
export function archForGguf(ggufArch: string): ArchSpec | undefined {
  return ARCHITECTURES.find((a) => a.ggufArch === ggufArch);
}
