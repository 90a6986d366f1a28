/**
 * A decoder's hyperparameters, read the one way llama.cpp reads them: from GGUF keys
 * (llama_model::load_hparams). An HF folder gets the same keys from convert's own metadata
 * builder, so a model has one description whatever its source.
 */
import { FormatError, UnsupportedError } from '../../formats/errors.ts';
import { ARCHITECTURES, archForGguf, type ForwardFacts } from '../../formats/hf/architectures.ts';
import type { GgufKv } from '../../formats/gguf/value-types.ts';

export interface ModelHparams {
  arch: string;
  nLayer: number;
  nEmbd: number;
  nFf: number;
  nHead: number;
  nHeadKv: number;
  /** attention.key_length / value_length, default n_embd / n_head. */
  headDimK: number;
  headDimV: number;
  nVocab: number;
  /** context_length: the longest sequence the model was trained for. */
  ctxTrain: number;
  eps: number;
  ropeBase: number;
  /** rope.dimension_count, default head_dim: the leading dims of a head that rotate. */
  nRot: number;
  /** 1 / rope.scaling.factor for linear scaling, else 1. */
  ropeFreqScale: number;
  /** expert_count / expert_used_count (MoE archs), else 0. */
  nExpert: number;
  nExpertUsed: number;
  /** attn / final logit softcaps (0: none). */
  attnSoftcap: number;
  finalSoftcap: number;
  /** Sliding window (n_swa) and which layers use it (llama_hparams::is_swa), with their rope base. */
  nSwa: number;
  swaLayers: boolean[];
  ropeBaseSwa: number;
  facts: ForwardFacts;
}

export function kvValue(kvs: readonly GgufKv[], key: string): unknown {
  return kvs.find((k) => k.key === key)?.value;
}

export function hparamsFromKvs(kvs: readonly GgufKv[], source: string, nVocabFromTensor?: number): ModelHparams {
  const arch = kvValue(kvs, 'general.architecture');
  if (typeof arch !== 'string') throw new FormatError('MISSING_KEY', `${source}: general.architecture is missing`, { file: source });
  const spec = archForGguf(arch);
  if (!spec?.forward) {
    throw new UnsupportedError('UNSUPPORTED_ARCHITECTURE', `${source}: architecture '${arch}' has no forward pass here (supported: ${[...new Set(ARCHITECTURES.filter((a) => a.forward).map((a) => a.ggufArch))].join(', ')})`, { file: source });
  }
  const num = (key: string, fallback?: number): number => {
    const v = kvValue(kvs, `${arch}.${key}`);
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if (typeof v === 'bigint') return Number(v);
    if (fallback !== undefined) return fallback;
    throw new FormatError('MISSING_KEY', `${source}: ${arch}.${key} is missing`, { file: source });
  };
  const nEmbd = num('embedding_length');
  const nHead = num('attention.head_count');
  const headDimK = num('attention.key_length', nEmbd / nHead);
  const scalingType = kvValue(kvs, `${arch}.rope.scaling.type`);
  let ropeFreqScale = 1;
  if (scalingType === 'linear') ropeFreqScale = 1 / num('rope.scaling.factor', 1);
  else if (scalingType !== undefined && scalingType !== 'none') {
    throw new UnsupportedError('UNSUPPORTED_ROPE_SCALING', `${source}: rope scaling '${String(scalingType)}' is not supported by the forward pass`, { file: source });
  }
  const nLayer = num('block_count');
  const ropeBase = num('rope.freq_base', 10000);
  const swa = spec.forward.swa;
  const nSwa = swa ? num('attention.sliding_window', swa.defaultWindow) : 0;
  const pattern = kvValue(kvs, `${arch}.attention.sliding_window_pattern`);
  const swaLayers = Array.from({ length: nLayer }, (_, il) => {
    if (!swa || nSwa <= 0) return false;
    if (pattern !== null && typeof pattern === 'object' && 'length' in pattern) return Boolean((pattern as ArrayLike<unknown>)[il]);
    const n = typeof pattern === 'number' ? pattern : swa.pattern; // llama_hparams::set_swa_pattern
    return n === 0 || il % n < n - 1;
  });
  const tokens = kvValue(kvs, 'tokenizer.ggml.tokens') as ArrayLike<unknown> | undefined;
  return {
    arch,
    nLayer,
    nEmbd,
    nFf: num('feed_forward_length'),
    nHead,
    nHeadKv: num('attention.head_count_kv', nHead),
    headDimK,
    headDimV: num('attention.value_length', headDimK),
    nVocab: num('vocab_size', tokens?.length ?? nVocabFromTensor ?? 0),
    ctxTrain: num('context_length'),
    eps: num('attention.layer_norm_rms_epsilon'),
    ropeBase,
    nRot: num('rope.dimension_count', headDimK),
    ropeFreqScale,
    nExpert: spec.forward.moe ? num('expert_count', 0) : 0,
    nExpertUsed: spec.forward.moe ? num('expert_used_count', 0) : 0,
    attnSoftcap: spec.forward.attnSoftcap ? num('attn_logit_softcapping', 0) : 0,
    finalSoftcap: spec.forward.finalSoftcap ? num('final_logit_softcapping', 0) : 0,
    nSwa,
    swaLayers,
    ropeBaseSwa: num('rope.freq_base_swa', swa?.ropeBaseSwa === 'freq-base' ? ropeBase : swa?.ropeBaseSwa ?? ropeBase),
    facts: spec.forward,
  };
}
