import fs from 'node:fs/promises';
import path from 'node:path';
import { f32, i32, str, type GgufValue } from '../gguf/value-types.ts';
import type { KvList } from './kv-list.ts';

type Json = Record<string, unknown>;

/**
 * gguf-py's `Metadata.load` reads generation_config.json and `set_gguf_meta_model` writes these
 * `general.sampling.*` keys, in this order, right after `general.type` and before `general.name`.
 * Each row: the GGUF key, the generation_config field(s) in precedence order, and the writer's type
 * (gguf_writer.add_sampling_*: top_k, penalty_last_n and mirostat are INT32, the rest FLOAT32).
 * A key whose field is absent or null is not written.
 */
const SAMPLING_KEYS: readonly { key: string; fields: readonly string[]; type: 'i32' | 'f32' | 'str' }[] = [
  { key: 'general.sampling.sequence', fields: ['sequence'], type: 'str' },
  { key: 'general.sampling.top_k', fields: ['top_k'], type: 'i32' },
  { key: 'general.sampling.top_p', fields: ['top_p'], type: 'f32' },
  { key: 'general.sampling.min_p', fields: ['min_p'], type: 'f32' },
  { key: 'general.sampling.xtc_probability', fields: ['xtc_probability'], type: 'f32' },
  { key: 'general.sampling.xtc_threshold', fields: ['xtc_threshold'], type: 'f32' },
  { key: 'general.sampling.temp', fields: ['temperature'], type: 'f32' },
  { key: 'general.sampling.penalty_last_n', fields: ['penalty_last_n'], type: 'i32' },
  // `gen_config.get("penalty_repeat", gen_config.get("repetition_penalty"))`: the first only wins when present.
  { key: 'general.sampling.penalty_repeat', fields: ['penalty_repeat', 'repetition_penalty'], type: 'f32' },
  { key: 'general.sampling.mirostat', fields: ['mirostat'], type: 'i32' },
  { key: 'general.sampling.mirostat_tau', fields: ['mirostat_tau'], type: 'f32' },
  { key: 'general.sampling.mirostat_eta', fields: ['mirostat_eta'], type: 'f32' },
];

/**
 * generation_config.json as `Metadata.load_generation_config` reads it: a missing, unreadable or
 * invalid file is `{}` (the converter ignores it silently, since many checkpoints ship broken ones).
 */
export async function readGenerationConfig(dir: string): Promise<Json> {
  try {
    const value: unknown = JSON.parse(await fs.readFile(path.join(dir, 'generation_config.json'), 'utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
  } catch {
    return {};
  }
}

/** Append the `general.sampling.*` keys generation_config.json gives, in gguf-py's order. */
export function addSamplingKvs(kv: KvList, gen: Json): void {
  for (const row of SAMPLING_KEYS) {
    const field = row.fields.find((f) => f in gen);
    const v = field === undefined ? undefined : gen[field];
    const value = typedValue(row.type, v);
    if (value) kv.set(row.key, value);
  }
}

function typedValue(type: 'i32' | 'f32' | 'str', v: unknown): GgufValue | undefined {
  if (v === undefined || v === null) return undefined;
  if (type === 'str') return typeof v === 'string' ? str(v) : undefined;
  if (typeof v === 'boolean') return type === 'i32' ? i32(Number(v)) : f32(Number(v)); // Python bools are ints
  if (typeof v !== 'number' || !Number.isFinite(v)) return undefined;
  if (type === 'i32') return Number.isInteger(v) ? i32(v) : undefined; // struct.pack('<i', 20.5) fails in gguf-py
  return f32(v);
}
