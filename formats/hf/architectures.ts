import { UnsupportedError } from '../errors.ts';
import { H, TEXT_MODEL_HPARAMS, type HparamKey } from './arch-hparams.ts';
import type { HfConfig } from './config.ts';

/** Where a tokenizer comes from, in the converter's `set_vocab` order. */
export type VocabSource = 'sentencepiece' | 'phi3-sentencepiece' | 'llama-hf' | 'gpt2';

/**
 * One row per supported Hugging Face architecture: everything that differs between them is data
 * here, not a code path (llama.cpp's converter classes: `LlamaModel`, `Qwen2Model`, `Qwen3Model`,
 * `Phi3MiniModel`, `Gemma2Model`, `Gemma3Model`).
 */
export interface ArchSpec {
  /** `architectures[0]` values in config.json this row handles. */
  hfArchitectures: string[];
  /** `general.architecture` and the prefix of the model's keys. */
  ggufArch: 'llama' | 'qwen2' | 'qwen3' | 'phi3' | 'gemma2' | 'gemma3';
  /** Llama stores q/k rows in HF rotate-half order; llama.cpp wants adjacent pairs (see permuteRowsQK). */
  permuteQK: boolean;
  /** q/k/v projections carry biases (Qwen2). Llama biases are still mapped when present. */
  hasQkvBias: boolean;
  /** The model-parameter keys `set_gguf_parameters` writes, in its order (formats/hf/arch-hparams.ts). */
  hparams: readonly HparamKey[];
  /** transformers' config class defines head_dim (LlamaConfig), so AutoConfig.to_dict() always has it and
   * convert writes key_length/value_length even when config.json omits it. MistralConfig's is None. */
  autoConfigHasHeadDim: boolean;
  /** Tokenizer sources tried in order, as the converter's set_vocab does. */
  vocabOrder: readonly VocabSource[];
  /** `set_vocab` ends with `add_add_space_prefix(False)` (Gemma). */
  addSpacePrefixFalseAfterVocab: boolean;
  /** Handles `rope_scaling.rope_type == "llama3"` by generating the rope_freqs tensor. */
  llama3RopeFreqs: boolean;
  /** Phi-3 long-context: `rope_scaling.long_factor/short_factor` become rope_factors_long/short tensors. */
  longRopeFactors: boolean;
  /** HF tensor names lack the `model.` prefix (bare `LlamaModel` / `Qwen2Model` checkpoints). */
  bareModelPrefix: boolean;
  /** LlamaModel.set_vocab writes `tokenizer.ggml.add_space_prefix` from tokenizer_config's add_prefix_space. */
  addSpacePrefixFromTokenizerConfig: boolean;
  /** Per-tensor transforms and names (formats/hf/tensor-map.ts applies them). */
  tensors: {
    /** HF layer-tensor suffix → GGUF suffix, where this arch's TensorNameMap differs from the shared one. */
    renames: Readonly<Record<string, string>>;
    /** Names ending in `norm.weight` are stored as w + 1 (Gemma's RMSNorm scales by 1 + w). */
    normPlusOne: boolean;
    /** HF names the converter drops (Gemma 2 skips lm_head.weight). */
    skip?: RegExp;
    /** Mixtral: `block_sparse_moe.experts.{e}.w1/w2/w3` stacked over experts into 3-D ffn_{gate,down,up}_exps. */
    stackExperts: boolean;
    /** GGUF suffixes every block must have. */
    requiredLayer: readonly string[];
  };
  /** AutoConfig defaults for fields config.json may omit. */
  defaults: { ropeTheta: number; contextLength: number; tieWordEmbeddings: boolean };
  /** How the decoder runs (src/model reads these; llama.cpp's llm_build_* for the arch). Absent: the
   * forward pass does not run this architecture yet (eval refuses it with exit 6). */
  forward?: ForwardFacts;
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
  /** Attention scores scaled by 1/sqrt(head_dim) (key_length) in the softmax, or q scaled by it before
   * the kq product (Gemma's f_attention_scale; llama.cpp's 27B-only n_embd/n_head variant is not modelled). */
  attnScale: 'rsqrt-head-dim' | 'q-rsqrt-head-dim';
  /** Feed-forward: down(act(gate(x)) * up(x)), act silu or tanh-GELU (Gemma). */
  ffn: 'silu-gated' | 'gelu-gated';
  /** Token embeddings scaled by sqrtf(n_embd) (Gemma). */
  embedScale?: boolean;
  /** attn_post_norm / post_ffw_norm: an RMSNorm on each branch's output before its residual add (Gemma 2/3). */
  postNorms?: boolean;
  /** Read {arch}.attn_logit_softcapping: kq = cap·tanh(kq/cap) (gemma2). */
  attnSoftcap?: boolean;
  /** Read {arch}.final_logit_softcapping: logits = cap·tanh(logits/cap) when present and > 0. */
  finalSoftcap?: boolean;
  /** Interleaved sliding-window attention: layer il is local when il % pattern < pattern − 1
   * (attention.sliding_window_pattern overrides the pattern), with window attention.sliding_window
   * (default defaultWindow; 0 turns it off) and rope base rope.freq_base_swa (default ropeBaseSwa). */
  swa?: { pattern: number; defaultWindow: number; ropeBaseSwa: 'freq-base' | number };
  /** attn_q_norm / attn_k_norm: an RMSNorm over each head's q and k before rope (Qwen3). */
  qkNorm?: boolean;
  /** One attn_qkv matrix whose output rows are q, then k, then v; one ffn_up whose output is gate then up (Phi-3). */
  fused?: boolean;
  /** When the file has expert_count > 0, a sparse MoE feed-forward (Mixtral, GGUF arch llama): ffn_gate_inp
   * router, softmax, top expert_used_count of the stacked ffn_{gate,up,down}_exps; normWeights renormalises
   * the chosen probs (build_moe_ffn's norm_w). */
  moe?: { normWeights: boolean };
}

const ATTN = ['attn_norm.weight', 'attn_q.weight', 'attn_k.weight', 'attn_v.weight', 'attn_output.weight'];
const FFN = ['ffn_norm.weight', 'ffn_gate.weight', 'ffn_up.weight', 'ffn_down.weight'];

type Row = Omit<ArchSpec, 'hfArchitectures' | 'bareModelPrefix'>;

const LLAMA: Row = {
  ggufArch: 'llama',
  permuteQK: true,
  hasQkvBias: false,
  hparams: [...TEXT_MODEL_HPARAMS, H.vocabSize, H.ropeDimensionCount],
  autoConfigHasHeadDim: true,
  vocabOrder: ['sentencepiece', 'llama-hf', 'gpt2'],
  addSpacePrefixFalseAfterVocab: false,
  llama3RopeFreqs: true,
  longRopeFactors: false,
  addSpacePrefixFromTokenizerConfig: true,
  tensors: { renames: {}, normPlusOne: false, stackExperts: false, requiredLayer: [...ATTN, ...FFN] },
  defaults: { ropeTheta: 10000, contextLength: 2048, tieWordEmbeddings: false }, // LlamaConfig
  // llm_build_llama runs build_moe_ffn with norm_w = true when n_expert > 0 (Mixtral).
  forward: { norm: 'pre-rms', rope: 'normal', qkvBias: false, tiedOutputFallback: true, ropeFreqs: true, attnScale: 'rsqrt-head-dim', ffn: 'silu-gated', moe: { normWeights: true } },
};

const QWEN2: Row = {
  ggufArch: 'qwen2',
  permuteQK: false,
  hasQkvBias: true,
  hparams: TEXT_MODEL_HPARAMS,
  autoConfigHasHeadDim: false,
  vocabOrder: ['sentencepiece', 'gpt2'],
  addSpacePrefixFalseAfterVocab: false,
  llama3RopeFreqs: false,
  longRopeFactors: false,
  addSpacePrefixFromTokenizerConfig: false,
  tensors: { renames: {}, normPlusOne: false, stackExperts: false, requiredLayer: [...ATTN, ...FFN, 'attn_q.bias', 'attn_k.bias', 'attn_v.bias'] },
  defaults: { ropeTheta: 10000, contextLength: 32768, tieWordEmbeddings: false }, // Qwen2Config
  forward: { norm: 'pre-rms', rope: 'neox', qkvBias: true, tiedOutputFallback: true, ropeFreqs: false, attnScale: 'rsqrt-head-dim', ffn: 'silu-gated' },
};

/** Gemma's four norms per layer: post_attention_layernorm is its own tensor, the FFN norm is pre_feedforward. */
const GEMMA_RENAMES = {
  'post_attention_layernorm.weight': 'post_attention_norm.weight',
  'pre_feedforward_layernorm.weight': 'ffn_norm.weight',
  'post_feedforward_layernorm.weight': 'post_ffw_norm.weight',
};
const GEMMA_LAYER = [...ATTN, ...FFN, 'post_attention_norm.weight', 'post_ffw_norm.weight'];

/** llama_model_gemma2: NEOX rope, q pre-scaled, GeGLU, post norms, both softcaps, every other layer local. */
const GEMMA2_FORWARD: ForwardFacts = {
  norm: 'pre-rms', rope: 'neox', qkvBias: false, tiedOutputFallback: true, ropeFreqs: false, attnScale: 'q-rsqrt-head-dim', ffn: 'gelu-gated',
  embedScale: true, postNorms: true, attnSoftcap: true, finalSoftcap: true, swa: { pattern: 2, defaultWindow: 4096, ropeBaseSwa: 'freq-base' },
};

export const ARCHITECTURES: readonly ArchSpec[] = [
  { ...LLAMA, hfArchitectures: ['LlamaForCausalLM', 'LLaMAForCausalLM'], bareModelPrefix: false },
  { ...LLAMA, hfArchitectures: ['LlamaModel'], bareModelPrefix: true },
  // MistralConfig.head_dim defaults to None, so key/value_length only when config.json names head_dim.
  { ...LLAMA, hfArchitectures: ['MistralForCausalLM'], bareModelPrefix: false, autoConfigHasHeadDim: false, defaults: { ...LLAMA.defaults, contextLength: 131072 } },
  {
    ...LLAMA, hfArchitectures: ['MixtralForCausalLM'], bareModelPrefix: false, autoConfigHasHeadDim: false,
    tensors: { ...LLAMA.tensors, stackExperts: true, requiredLayer: [...ATTN, 'ffn_norm.weight', 'ffn_gate_inp.weight', 'ffn_gate_exps.weight', 'ffn_down_exps.weight', 'ffn_up_exps.weight'] },
    defaults: { ropeTheta: 1e6, contextLength: 131072, tieWordEmbeddings: false }, // MixtralConfig
  },
  { ...QWEN2, hfArchitectures: ['Qwen2ForCausalLM'], bareModelPrefix: false },
  { ...QWEN2, hfArchitectures: ['Qwen2Model'], bareModelPrefix: true },
  {
    ...QWEN2, ggufArch: 'qwen3', hfArchitectures: ['Qwen3ForCausalLM'], bareModelPrefix: false, hasQkvBias: false,
    forward: { ...QWEN2.forward!, qkvBias: false, qkNorm: true },
    tensors: { ...QWEN2.tensors, requiredLayer: [...ATTN, ...FFN, 'attn_q_norm.weight', 'attn_k_norm.weight'] },
  },
  {
    ggufArch: 'phi3', hfArchitectures: ['Phi3ForCausalLM'], bareModelPrefix: false,
    permuteQK: false, hasQkvBias: false,
    // Phi3MiniModel.set_gguf_parameters does not call the shared writer.
    hparams: [H.contextLength, H.ropeOrigContext, H.embeddingLength, H.feedForwardLength, H.blockCount, H.headCount,
      H.headCountKv, H.rmsEps, H.ropeDimensionPartial, H.ropeFreqBase, H.fileType, H.slidingWindowOrZero],
    autoConfigHasHeadDim: false,
    vocabOrder: ['phi3-sentencepiece'],
    addSpacePrefixFalseAfterVocab: false,
    llama3RopeFreqs: false,
    longRopeFactors: true,
    addSpacePrefixFromTokenizerConfig: false,
    // Fused q/k/v and gate/up stay fused (attn_qkv, ffn_up); llama.cpp splits them at run time.
    tensors: { renames: {}, normPlusOne: false, stackExperts: false, requiredLayer: ['attn_norm.weight', 'attn_qkv.weight', 'attn_output.weight', 'ffn_norm.weight', 'ffn_up.weight', 'ffn_down.weight'] },
    defaults: { ropeTheta: 10000, contextLength: 4096, tieWordEmbeddings: false }, // Phi3Config
    forward: { norm: 'pre-rms', rope: 'neox', qkvBias: false, tiedOutputFallback: false, ropeFreqs: false, attnScale: 'rsqrt-head-dim', ffn: 'silu-gated', fused: true },
  },
  {
    ggufArch: 'gemma2', hfArchitectures: ['Gemma2ForCausalLM'], bareModelPrefix: false,
    permuteQK: false, hasQkvBias: false,
    // Gemma2Model.set_gguf_parameters: its own list, and no rope.freq_base (llama.cpp assumes 10000).
    hparams: [H.contextLength, H.embeddingLength, H.blockCount, H.feedForwardLength, H.headCount, H.headCountKv,
      H.rmsEps, H.keyValueLengthAlways, H.fileType, H.attnLogitSoftcap, H.finalLogitSoftcap, H.slidingWindow],
    autoConfigHasHeadDim: true,
    vocabOrder: ['sentencepiece'],
    addSpacePrefixFalseAfterVocab: true,
    llama3RopeFreqs: false,
    longRopeFactors: false,
    addSpacePrefixFromTokenizerConfig: false,
    tensors: { renames: GEMMA_RENAMES, normPlusOne: true, skip: /^lm_head\.weight$/, stackExperts: false, requiredLayer: GEMMA_LAYER },
    defaults: { ropeTheta: 10000, contextLength: 8192, tieWordEmbeddings: true }, // Gemma2Config
    forward: GEMMA2_FORWARD,
  },
  {
    ggufArch: 'gemma3', hfArchitectures: ['Gemma3ForCausalLM'], bareModelPrefix: false,
    permuteQK: false, hasQkvBias: false,
    // The shared writer, then Gemma3Model re-writes context_length, head_count, rms eps, key/value_length,
    // rope.freq_base and head_count_kv: gguf-py keeps each key at its first position, so the order is the shared one.
    hparams: [...TEXT_MODEL_HPARAMS.filter((k) => k !== H.keyValueLength && k !== H.fileType), H.keyValueLengthAlways, H.fileType,
      H.finalLogitSoftcap, H.slidingWindowUnlessPattern1],
    autoConfigHasHeadDim: true,
    vocabOrder: ['sentencepiece'],
    addSpacePrefixFalseAfterVocab: true,
    llama3RopeFreqs: false,
    longRopeFactors: false,
    addSpacePrefixFromTokenizerConfig: false,
    tensors: { renames: GEMMA_RENAMES, normPlusOne: true, stackExperts: false, requiredLayer: [...GEMMA_LAYER, 'attn_q_norm.weight', 'attn_k_norm.weight'] },
    defaults: { ropeTheta: 1e6, contextLength: 131072, tieWordEmbeddings: true }, // Gemma3TextConfig
    // llama_model_gemma3: q/k norms, no attention softcap, 5 local : 1 global, local rope base 10000
    // (llama_hparams' rope_freq_base_train_swa default), SWA only when sliding_window > 0.
    forward: { ...GEMMA2_FORWARD, attnSoftcap: false, qkNorm: true, swa: { pattern: 6, defaultWindow: 0, ropeBaseSwa: 10000 } },
  },
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

/** tie_word_embeddings as the config class reads it (Gemma ties by default). */
export function tiedEmbeddings(config: HfConfig, arch: ArchSpec): boolean {
  const v = config.raw.tie_word_embeddings;
  return typeof v === 'boolean' ? v : config.tieWordEmbeddings || arch.defaults.tieWordEmbeddings;
}

/** The first row for a GGUF `general.architecture` (the forward pass reads GGUF files by it). */
export function archForGguf(ggufArch: string): ArchSpec | undefined {
  return ARCHITECTURES.find((a) => a.ggufArch === ggufArch);
}
