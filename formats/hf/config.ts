import path from 'node:path';
import { FormatError } from '../errors.ts';
import { readJsonFile } from './read-json.ts';

/**
 * The fields of a Hugging Face `config.json` the converter uses, with the defaults transformers'
 * AutoConfig would fill in (convert_hf_to_gguf.py reads `AutoConfig(...).to_dict()`).
 */
export interface HfConfig {
  /** The parsed config.json (with `text_config` merged into the top level, as convert does). */
  raw: Record<string, unknown>;
  dir: string;
  file: string;
  architecture: string;
  modelType: string | undefined;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  /** config.json's head_dim, or hidden_size / num_attention_heads. */
  headDim: number;
  /** Whether config.json itself names head_dim (some keys are written only then). */
  headDimInConfig: boolean;
  intermediateSize: number;
  vocabSize: number;
  contextLength: number | undefined;
  rmsNormEps: number;
  ropeTheta: number | undefined;
  /** `rope_parameters` or `rope_scaling`, or null. */
  ropeScaling: Record<string, unknown> | null;
  tieWordEmbeddings: boolean;
}

export async function readHfConfig(dir: string): Promise<HfConfig> {
  const file = path.join(dir, 'config.json');
  const top = await readJsonFile(dir, 'config.json', true);
  if (!top) throw new FormatError('MISSING_CONFIG', `${file}: not found; a Hugging Face model folder needs config.json`, { file });
  const raw: Record<string, unknown> = isObject(top.text_config) ? { ...top, ...top.text_config } : { ...top };
  const archs = raw.architectures;
  if (!Array.isArray(archs) || typeof archs[0] !== 'string') {
    throw new FormatError('CONFIG_FIELD', `${file}: "architectures" must be a non-empty list of strings`, { file });
  }
  const int = (keys: string[], fallback?: number): number => {
    const v = pick(raw, keys);
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw new FormatError('CONFIG_FIELD', `${file}: required field ${keys.map((k) => `"${k}"`).join(' or ')} is missing`, { file });
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
      throw new FormatError('CONFIG_FIELD', `${file}: field "${keys.find((k) => k in raw)}" must be a positive integer, got ${JSON.stringify(v)}`, { file });
    }
    return v;
  };
  const num = (keys: string[]): number | undefined => {
    const v = pick(raw, keys);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new FormatError('CONFIG_FIELD', `${file}: field "${keys.find((k) => k in raw)}" must be a number, got ${JSON.stringify(v)}`, { file });
    }
    return v;
  };

  const hiddenSize = int(['hidden_size', 'n_embd', 'dim']);
  const numHeads = int(['num_attention_heads', 'n_head', 'n_heads']);
  const headDimInConfig = raw.head_dim !== undefined && raw.head_dim !== null;
  const headDim = headDimInConfig ? int(['head_dim']) : hiddenSize / numHeads;
  if (!Number.isInteger(headDim)) {
    throw new FormatError('CONFIG_FIELD', `${file}: hidden_size ${hiddenSize} is not a multiple of num_attention_heads ${numHeads}`, { file });
  }
  const ropeScaling = [raw.rope_parameters, raw.rope_scaling].find(isObject) ?? null;
  const ropeTheta = num(['rope_theta', 'rotary_emb_base']) ?? (ropeScaling ? numOrUndef(ropeScaling.rope_theta) : undefined);
  return {
    raw,
    dir,
    file,
    architecture: archs[0],
    modelType: typeof raw.model_type === 'string' ? raw.model_type : undefined,
    hiddenSize,
    numLayers: int(['num_hidden_layers', 'n_layers', 'n_layer', 'num_layers']),
    numHeads,
    numKvHeads: int(['num_key_value_heads', 'n_kv_heads'], numHeads),
    headDim,
    headDimInConfig,
    intermediateSize: int(['intermediate_size', 'n_inner', 'hidden_dim']),
    vocabSize: int(['vocab_size']),
    contextLength: num(['max_position_embeddings', 'n_ctx', 'n_positions', 'max_length', 'max_sequence_length', 'model_max_length']),
    rmsNormEps: num(['rms_norm_eps', 'norm_eps']) ?? 1e-6,
    ropeTheta,
    ropeScaling,
    tieWordEmbeddings: raw.tie_word_embeddings === true,
  };
}

function pick(obj: Record<string, unknown>, keys: string[]): unknown {
  for (const k of keys) if (k in obj) return obj[k];
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function numOrUndef(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}
