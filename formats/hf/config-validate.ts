/**
 * config.json checked against itself and against the checkpoint BEFORE anything is sized from it.
 * Tensor mapping, metadata and the tokenizer all trust these numbers: `num_hidden_layers:
 * 2147483648` would otherwise make the converter build two billion expected tensor names, and
 * `max_position_embeddings: 1.5` would only fail when the GGUF header is encoded. Each failure is a
 * FormatError (exit 4) naming config.json and the field.
 *
 * Only fields every decoder-only model has are checked here (counts, sizes, context, eps, rope
 * base); architecture-specific fields are optional and left to the architecture rows.
 */
import { FormatError } from '../errors.ts';
import type { HfConfig } from './config.ts';

/** GGUF stores these counts as UINT32. */
const U32_MAX = 0xffffffff;
/** Largest finite float32: eps and rope base are written as FLOAT32. */
const F32_MAX = 3.4028234663852886e38;

/** config.json's keys for each HfConfig field, in readHfConfig's order (the first present one is named). */
const KEYS = {
  numLayers: ['num_hidden_layers', 'n_layers', 'n_layer', 'num_layers'],
  hiddenSize: ['hidden_size', 'n_embd', 'dim'],
  numHeads: ['num_attention_heads', 'n_head', 'n_heads'],
  numKvHeads: ['num_key_value_heads', 'n_kv_heads'],
  headDim: ['head_dim'],
  intermediateSize: ['intermediate_size', 'n_inner', 'hidden_dim'],
  vocabSize: ['vocab_size'],
  contextLength: ['max_position_embeddings', 'n_ctx', 'n_positions', 'max_length', 'max_sequence_length', 'model_max_length'],
  rmsNormEps: ['rms_norm_eps', 'norm_eps'],
  ropeTheta: ['rope_theta', 'rotary_emb_base'],
} as const satisfies Partial<Record<keyof HfConfig, readonly string[]>>;

type Field = keyof typeof KEYS;

/** The tensors of a layer: `model.layers.N.…`, `layers.N.…` (bare checkpoints) and the like. */
const LAYER_INDEX = /(?:^|\.)layers\.(\d+)\./;
/** The input embedding, whose rows are the vocabulary and columns the hidden size. */
const EMBEDDING = /^(?:model\.)?embed_tokens\.weight$/;

function fieldName(config: HfConfig, field: Field): string {
  return KEYS[field].find((k) => k in config.raw) ?? KEYS[field][0];
}

function fail(config: HfConfig, field: Field | string, message: string): FormatError {
  const name = field in KEYS ? fieldName(config, field as Field) : field;
  return new FormatError('CONFIG_FIELD', `${config.file}: field "${name}" ${message}`, { file: config.file, field: name });
}

function checkCount(config: HfConfig, field: Field, value: number | undefined): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value <= 0 || value > U32_MAX) {
    throw fail(config, field, `must be a positive integer of at most ${U32_MAX}, got ${value}`);
  }
}

function checkPositiveFloat(config: HfConfig, field: Field, value: number | undefined): void {
  if (value === undefined) return;
  if (!Number.isFinite(value) || value <= 0 || value > F32_MAX) {
    throw fail(config, field, `must be a positive number that fits a float32, got ${value}`);
  }
}

/** Checks config.json's own numbers: types, ranges and how they relate to each other. */
export function validateConfigValues(config: HfConfig): void {
  for (const f of ['numLayers', 'hiddenSize', 'numHeads', 'numKvHeads', 'headDim', 'intermediateSize', 'vocabSize', 'contextLength'] as const) {
    checkCount(config, f, config[f]);
  }
  checkPositiveFloat(config, 'rmsNormEps', config.rmsNormEps);
  checkPositiveFloat(config, 'ropeTheta', config.ropeTheta);
  if (config.numKvHeads > config.numHeads || config.numHeads % config.numKvHeads !== 0) {
    throw fail(config, 'numKvHeads', `(${config.numKvHeads}) must divide the number of attention heads (${config.numHeads})`);
  }
  const rope = config.ropeScaling;
  if (rope) {
    const type = String(rope.rope_type ?? rope.type ?? '');
    const key = 'rope_parameters' in config.raw && config.raw.rope_parameters === rope ? 'rope_parameters' : 'rope_scaling';
    const factor = rope.factor;
    if (factor !== undefined && factor !== null && (typeof factor !== 'number' || !Number.isFinite(factor) || factor <= 0 || factor > F32_MAX)) {
      throw fail(config, `${key}.factor`, `must be a positive number, got ${JSON.stringify(factor)}`);
    }
    const orig = rope.original_max_position_embeddings;
    if (type === 'yarn' && (typeof orig !== 'number' || !Number.isInteger(orig) || orig <= 0 || orig > U32_MAX)) {
      throw fail(config, `${key}.original_max_position_embeddings`, `must be a positive integer for yarn rope scaling, got ${JSON.stringify(orig) ?? 'nothing'}`);
    }
  }
}

/**
 * Checks config.json against the checkpoint's tensor list: the layer count may not exceed the
 * layers the checkpoint holds, and the embedding must be vocab_size × hidden_size. Cheap (one
 * pass over the names) and done before any per-layer list is built from num_hidden_layers.
 */
export function validateConfigAgainstTensors(config: HfConfig, tensors: readonly { name: string; shape: readonly number[] }[]): void {
  validateConfigValues(config);
  let layers = 0;
  for (const t of tensors) {
    const m = LAYER_INDEX.exec(t.name);
    if (m) layers = Math.max(layers, Number(m[1]) + 1);
  }
  // More layers than the checkpoint holds is what could size a huge list; fewer is reported by
  // the tensor map as the first tensor beyond the count (some architectures keep extra layers).
  if (config.numLayers > layers) {
    throw fail(config, 'numLayers', `is ${config.numLayers} but the checkpoint holds tensors for ${layers} layer${layers === 1 ? '' : 's'}`);
  }
  const embedding = tensors.find((t) => EMBEDDING.test(t.name));
  if (embedding && embedding.shape.length === 2) {
    const [rows, cols] = embedding.shape as [number, number];
    if (rows !== config.vocabSize) {
      throw fail(config, 'vocabSize', `is ${config.vocabSize} but the checkpoint's ${embedding.name} has ${rows} rows`);
    }
    if (cols !== config.hiddenSize) {
      throw fail(config, 'hiddenSize', `is ${config.hiddenSize} but the checkpoint's ${embedding.name} has ${cols} columns`);
    }
  }
}
