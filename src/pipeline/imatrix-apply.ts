/**
 * An importance matrix applied to a quantization plan, as llama-quantize applies `--imatrix`
 * (tools/quantize/quantize.cpp `load_imatrix` and the kv overrides it sets; src/llama-quant.cpp
 * `llama_model_quantize_impl`):
 * - each quantized tensor gets its entry's per-column weights (`quantWeights`: sums / count, per
 *   expert for 3-D tensors); a tensor without an entry is quantized without one, with a warning
 *   (upstream: "did not find weights for …"), unless its type cannot do without ("Missing
 *   importance matrix for tensor … in a very low-bit quantization");
 * - an entry whose size is not ne0 · ne2 is an error (token_embd excepted: upstream skips it);
 *   an imatrix none of whose entries names a quantized tensor is another model's: an error too;
 * - without any imatrix, a type that needs one is refused ("this quantization requires an imatrix!");
 * - the output gets `quantize.imatrix.file`, `.dataset` (the first), `.entries_count` and, when
 *   positive, `.chunks_count`, after `general.file_type`, strings cut to 127 bytes, counts UINT32.
 */
import { FormatError, UnsupportedError } from '../../formats/errors.ts';
import { quantWeights, type Imatrix } from '../../formats/imatrix/imatrix.ts';
import { GgufValueType, type GgufKv } from '../../formats/gguf/value-types.ts';
import { ggmlType } from '../../kernels/ggml-types.ts';
import { requiresImatrix } from '../policy/mixture-rules.ts';
import type { TensorPlan } from '../policy/type-policy.ts';
import type { PipelineEvent } from './events.ts';

export const IMATRIX_KV = {
  file: 'quantize.imatrix.file',
  dataset: 'quantize.imatrix.dataset',
  entries: 'quantize.imatrix.entries_count',
  chunks: 'quantize.imatrix.chunks_count',
} as const;

/** What a plan records of its imatrix (the weights stay out of summaries). */
export interface PlanImatrix {
  /** The file as given (`quantize.imatrix.file`), or what `auto` computed it from. */
  file: string;
  datasets: string[];
  entries: number;
  chunks: number;
  /** Quantized tensors that get weights, and those that have none in the matrix. */
  used: number;
  missing: string[];
  /** Per planned tensor name: its weights (ne0 values, or ne0 · experts for 3-D tensors). */
  weights: Map<string, Float32Array>;
}

const typeName = (t: number) => ggmlType(t)?.name ?? `type ${t}`;
const isEmbd = (n: string) => n === 'token_embd.weight' || n === 'per_layer_token_embd.weight';

/** A plan made without an imatrix: refuse (or, for a dry run, warn about) the types that need one. */
export function* checkNoImatrixNeeded(tensors: TensorPlan[], ftype: string, dryRun: boolean): Generator<PipelineEvent> {
  const p = tensors.find((t) => t.quantize && requiresImatrix(t.name, t.targetType, ftype));
  if (!p) return;
  const message = `this quantization requires an imatrix! offending tensor: ${p.name}, target type: ${typeName(p.targetType)} (${typeName(p.targetType)} needs an importance matrix: pass --imatrix FILE, compute one with gguf-forge imatrix, or convert with --imatrix auto)`;
  if (dryRun) yield { type: 'warning', code: 'IMATRIX_REQUIRED', tensor: p.name, message: `dry run only: ${message}` };
  else throw new UnsupportedError('IMATRIX_REQUIRED', message, { tensor: p.name });
}

export function* applyImatrix(tensors: TensorPlan[], m: Imatrix, file: string, ftype: string): Generator<PipelineEvent, PlanImatrix> {
  const weights = new Map<string, Float32Array>();
  const missing: string[] = [];
  let candidates = 0;
  for (const p of tensors) {
    if (!p.quantize) continue;
    if (!isEmbd(p.name)) candidates++;
    const entry = m.entries.get(p.name);
    if (!entry) {
      if (requiresImatrix(p.name, p.targetType, ftype)) {
        throw new FormatError('IMATRIX_MISSING', `Missing importance matrix for tensor ${p.name} in a very low-bit quantization (${typeName(p.targetType)}): ${file} has no entry for it`, { file, tensor: p.name });
      }
      missing.push(p.name);
      continue;
    }
    const w = quantWeights(m, entry);
    const want = p.ne[0]! * (p.ne[2] ?? 1);
    if (w.length !== want) {
      if (isEmbd(p.name)) { missing.push(p.name); continue; }
      throw new FormatError('IMATRIX_SIZE', `imatrix size ${w.length} is different from tensor size ${want} for ${p.name} (ne = [${p.ne.join(', ')}]): ${file} was computed for another model`, { file, tensor: p.name });
    }
    const bad = w.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new FormatError('IMATRIX_VALUE', `imatrix contains non-finite value ${w[bad]} (${p.name}, column ${bad}) in ${file}`, { file, tensor: p.name });
    weights.set(p.name, w);
  }
  if (candidates > 0 && ![...weights.keys()].some((n) => !isEmbd(n))) {
    const sample = [...m.entries.keys()].slice(0, 3).join(', ');
    throw new FormatError('IMATRIX_MODEL_MISMATCH', `${file} names none of this model's quantized tensors (it has ${m.entries.size} entries such as ${sample || 'none'}): it was computed for another model`, { file });
  }
  for (const name of missing) {
    yield { type: 'warning', code: 'IMATRIX_MISSING', tensor: name, file, message: `did not find importance weights for ${name} in ${file}: it is quantized without them` };
  }
  return { file, datasets: m.datasets, entries: m.entries.size, chunks: m.chunkCount, used: weights.size, missing, weights };
}

/** The keys llama-quantize appends (kv overrides: strings cut to 127 bytes, ints as UINT32). */
export function imatrixKvs(im: PlanImatrix): GgufKv[] {
  const cut = (s: string) => {
    const b = Buffer.from(s, 'utf8');
    return b.length <= 127 ? s : new TextDecoder().decode(b.subarray(0, 127));
  };
  const kvs: GgufKv[] = [{ key: IMATRIX_KV.file, type: GgufValueType.STRING, value: cut(im.file) }];
  if (im.datasets.length) kvs.push({ key: IMATRIX_KV.dataset, type: GgufValueType.STRING, value: cut(im.datasets[0]!) });
  kvs.push({ key: IMATRIX_KV.entries, type: GgufValueType.UINT32, value: im.entries });
  if (im.chunks > 0) kvs.push({ key: IMATRIX_KV.chunks, type: GgufValueType.UINT32, value: im.chunks });
  return kvs;
}

/** Adds (or replaces, moving to the end as gguf_set_val does) the imatrix keys. */
export function withImatrixKvs(kvs: GgufKv[], im: PlanImatrix | undefined): GgufKv[] {
  if (!im) return kvs;
  const add = imatrixKvs(im);
  const keys = new Set(add.map((k) => k.key));
  return [...kvs.filter((k) => !keys.has(k.key)), ...add];
}
