import { f32, i32, str, u32, type GgufValue } from '../gguf/value-types.ts';
import type { HfConfig } from './config.ts';
import type { KvList } from './kv-list.ts';

/** What a model-parameter key writer sees: the config, the arch's defaults and the output file type. */
export interface HparamContext {
  config: HfConfig;
  arch: string;
  fileTypeId: number;
  /** transformers' config-class defaults for fields config.json may omit (AutoConfig.to_dict()). */
  defaults: { ropeTheta: number; contextLength: number };
  /** The config class always defines head_dim (LlamaConfig), so to_dict() has it even when config.json does not. */
  autoConfigHasHeadDim: boolean;
}

/**
 * One key (or a small group) a converter class's `set_gguf_parameters` writes. A row of the
 * architecture table lists them in the converter's order; gguf-py keeps a re-written key at its
 * first position (KvList does too), so a class that writes a key twice needs it listed once.
 */
export type HparamKey = (kv: KvList, ctx: HparamContext) => void;

type Getter = (ctx: HparamContext) => number | undefined;
const raw = (ctx: HparamContext, k: string): unknown => ctx.config.raw[k];
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** `{arch}.<suffix>` with the given GGUF type, skipped when the value is undefined. */
function key(suffix: string, make: (v: number) => GgufValue, get: Getter): HparamKey {
  return (kv, ctx) => {
    const v = get(ctx);
    if (v !== undefined) kv.set(suffix.startsWith('general.') ? suffix : `${ctx.arch}.${suffix}`, make(v));
  };
}
const u32Key = (s: string, g: Getter) => key(s, u32, g);
const f32Key = (s: string, g: Getter) => key(s, f32, g);

export const H = {
  blockCount: u32Key('block_count', (c) => c.config.numLayers),
  contextLength: u32Key('context_length', (c) => c.config.contextLength ?? c.defaults.contextLength),
  embeddingLength: u32Key('embedding_length', (c) => c.config.hiddenSize),
  feedForwardLength: u32Key('feed_forward_length', (c) => c.config.intermediateSize),
  headCount: u32Key('attention.head_count', (c) => c.config.numHeads),
  headCountKv: u32Key('attention.head_count_kv', (c) => c.config.numKvHeads),
  ropeFreqBase: f32Key('rope.freq_base', (c) => c.config.ropeTheta ?? c.defaults.ropeTheta),
  /** `rope_local_base_freq` and its aliases: the sliding-window layers' rope base (Gemma 3). */
  ropeFreqBaseSwa: f32Key('rope.freq_base_swa', (c) => num(['local_rope_theta', 'rope_local_theta', 'rope_theta_local', 'swa_rope_theta', 'rope_local_base_freq']
    .map((k) => raw(c, k)).find((v) => v !== undefined && v !== null))),
  rmsEps: f32Key('attention.layer_norm_rms_epsilon', (c) => c.config.rmsNormEps),
  expertCount: u32Key('expert_count', (c) => num(['num_local_experts', 'num_experts', 'n_routed_experts'].map((k) => raw(c, k)).find((v) => v != null))),
  expertUsedCount: u32Key('expert_used_count', (c) => num(['num_experts_per_tok', 'num_experts_per_token', 'top_k_experts'].map((k) => raw(c, k)).find((v) => v != null))),
  /** TextModel writes key/value_length only when hparams has head_dim (config.json or the config class). */
  keyValueLength: ((kv, ctx) => {
    if (!ctx.config.headDimInConfig && !ctx.autoConfigHasHeadDim) return;
    kv.set(`${ctx.arch}.attention.key_length`, u32(ctx.config.headDim));
    kv.set(`${ctx.arch}.attention.value_length`, u32(ctx.config.headDim));
  }) as HparamKey,
  /** Classes that always write them (Gemma 2, Llama's config class always has head_dim). */
  keyValueLengthAlways: ((kv, ctx) => {
    kv.set(`${ctx.arch}.attention.key_length`, u32(ctx.config.headDim));
    kv.set(`${ctx.arch}.attention.value_length`, u32(ctx.config.headDim));
  }) as HparamKey,
  fileType: key('general.file_type', u32, (c) => c.fileTypeId),
  vocabSize: u32Key('vocab_size', (c) => c.config.vocabSize),
  ropeDimensionCount: u32Key('rope.dimension_count', (c) => c.config.headDim),
  /** Phi3MiniModel: int(partial_rotary_factor × hidden) // heads. */
  ropeDimensionPartial: u32Key('rope.dimension_count', (c) => Math.floor(Math.floor((num(raw(c, 'partial_rotary_factor')) ?? 1) * c.config.hiddenSize) / c.config.numHeads)),
  ropeOrigContext: u32Key('rope.scaling.original_context_length', (c) => num(raw(c, 'original_max_position_embeddings')) ?? num(c.config.ropeScaling?.original_max_position_embeddings)),
  /** Phi-3 writes 0 when sliding_window is null, to tell Phi-4 apart. */
  slidingWindowOrZero: u32Key('attention.sliding_window', (c) => num(raw(c, 'sliding_window')) ?? 0),
  slidingWindow: u32Key('attention.sliding_window', (c) => num(raw(c, 'sliding_window'))),
  /** Gemma 3 writes sliding_window unless sliding_window_pattern is 1. */
  slidingWindowUnlessPattern1: u32Key('attention.sliding_window', (c) => (raw(c, 'sliding_window_pattern') === 1 ? undefined : num(raw(c, 'sliding_window')))),
  attnLogitSoftcap: f32Key('attn_logit_softcapping', (c) => num(raw(c, 'attn_logit_softcapping'))),
  finalLogitSoftcap: f32Key('final_logit_softcapping', (c) => num(raw(c, 'final_logit_softcapping')) || undefined),
  ropeScaling: ((kv, ctx) => addRopeScaling(kv, ctx.arch, ctx.config.ropeScaling)) as HparamKey,
  i32Key: (s: string, g: Getter) => key(s, i32, g),
};

/** TextModel.set_gguf_parameters' rope scaling keys; llama3 scaling is a tensor instead (rope_freqs). */
function addRopeScaling(kv: KvList, a: string, rope: Record<string, unknown> | null): void {
  if (!rope) return;
  const type = (rope.rope_type ?? rope.type) as string | undefined;
  const factor = typeof rope.factor === 'number' ? rope.factor : undefined;
  if (type === 'linear' && factor !== undefined) {
    kv.set(`${a}.rope.scaling.type`, str('linear'));
    kv.set(`${a}.rope.scaling.factor`, f32(factor));
  } else if (type === 'yarn' && factor !== undefined) {
    kv.set(`${a}.rope.scaling.type`, str('yarn'));
    kv.set(`${a}.rope.scaling.factor`, f32(factor));
    kv.set(`${a}.rope.scaling.original_context_length`, u32(Number(rope.original_max_position_embeddings)));
    const opt = (k: string, v: unknown) => { if (typeof v === 'number') kv.set(`${a}.rope.scaling.${k}`, f32(v)); };
    opt('yarn_ext_factor', rope.extrapolation_factor);
    opt('yarn_attn_factor', rope.attention_factor ?? rope.attn_factor);
    opt('yarn_beta_fast', rope.beta_fast);
    opt('yarn_beta_slow', rope.beta_slow);
  } else if (type === 'su' || type === 'longrope') {
    kv.set(`${a}.rope.scaling.type`, str('longrope'));
  }
}

/** TextModel.set_gguf_parameters, in its order (the keys our architectures can have). */
export const TEXT_MODEL_HPARAMS: readonly HparamKey[] = [
  H.blockCount, H.contextLength, H.embeddingLength, H.feedForwardLength, H.headCount, H.headCountKv,
  H.ropeScaling, H.ropeFreqBase, H.ropeFreqBaseSwa, H.rmsEps, H.expertCount, H.expertUsedCount,
  H.keyValueLength, H.fileType,
];
