/**
 * `gguf-forge quantize`: GGUF → GGUF requantization, as llama-quantize does it (reference doc §7):
 * plan every tensor's type with llama.cpp's policy, copy the metadata with `general.file_type` and
 * `general.quantization_version` moved to the end and the split keys removed, then stream the
 * tensors through the shared write stage in llama-quantize's sorted order.
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { readGguf, getKv, readTensorBytes, tensorRowBytes, padTo, GGUF_DEFAULT_ALIGNMENT, type GgufFile, type GgufTensorInfo } from '../../formats/gguf/reader.ts';
import { openFileSource, type ByteSource } from '../../formats/io/byte-source.ts';
import { GgufValueType, FIXED_SIZE, type GgufKv, type GgufScalar } from '../../formats/gguf/value-types.ts';
import { CancelledError, UnsupportedError, UsageError } from '../../formats/errors.ts';
import { fileTypeByName } from '../../kernels/file-types.ts';
import { ggmlType, ggmlTypeByName, GgmlTypeId } from '../../kernels/ggml-types.ts';
import { dequantize, canQuantize, canDequantize, quantKernel } from '../../kernels/quant-table.ts';
import { planTensorTypes, PLANNABLE_FILE_TYPES, type TensorPlan } from '../policy/type-policy.ts';
import { modelFactsFromMetadata } from '../policy/model-facts.ts';
import { writeGguf, plannedBytes, type TensorSource, type Quantizer } from './write-gguf.ts';
import { quantizedFileKvs } from './quantized-kvs.ts';
import type { JobSummary, PipelineEvent } from './events.ts';
import { ReusedBytes } from './reused-bytes.ts';

export interface QuantizeOptions {
  input: string;
  output: string;
  /** File type name as llama-quantize takes it: `q5_K_M`, `Q4_0`, `q5_K` (= q5_K_M), `f16`… */
  fileType: string;
  pure?: boolean;
  /** `--output-tensor-type`: type name for output.weight (and a tied token_embd). */
  outputTensorType?: string;
  /** `--token-embedding-type`: type name for token_embd.weight. */
  tokenEmbeddingType?: string;
  /** `PATTERN=TYPE` strings, e.g. `attn_v=q8_0`; PATTERN is a regex searched in the tensor name. */
  overrides?: string[];
  threads?: number;
  force?: boolean;
  allowRequantize?: boolean;
  dryRun?: boolean;
  signal?: AbortSignal;
  /** Compute round-trip metrics for every quantized tensor (default true). */
  validate?: boolean;
  /** Reuse a running quantizer (its worker pool) instead of starting one for this job. */
  quantizer?: Quantizer;
}

/** One row of the plan as the summary (and `--dry-run`) reports it. */
export interface PlannedTensorRow {
  name: string;
  shape: number[];
  sourceType: string;
  targetType: string;
  rule: string;
  bytes: number;
  fallback?: { from: string; to: string; reason: string };
}

const typeName = (t: number) => ggmlType(t)?.name ?? `type ${t}`;

/** Parses `PATTERN=TYPE` the way llama-quantize does: split at the first '=', pattern lower-cased. */
export function parseTensorTypeOverride(spec: string): { pattern: RegExp; type: number } {
  const eq = spec.indexOf('=');
  if (eq < 0) throw new UsageError('BAD_TENSOR_TYPE', `--tensor-type '${spec}': expected PATTERN=TYPE`);
  if (eq === 0) throw new UsageError('BAD_TENSOR_TYPE', `--tensor-type '${spec}': missing tensor name pattern`);
  const typeText = spec.slice(eq + 1);
  const t = ggmlTypeByName(typeText);
  if (!t) throw new UsageError('BAD_TENSOR_TYPE', `--tensor-type '${spec}': unknown ggml type '${typeText}'`);
  try {
    return { pattern: new RegExp(spec.slice(0, eq).toLowerCase()), type: t.id };
  } catch (err) {
    throw new UsageError('BAD_TENSOR_TYPE', `--tensor-type '${spec}': invalid regular expression (${(err as Error).message})`);
  }
}

function typeFlag(flag: string, name: string | undefined): number | undefined {
  if (name === undefined) return undefined;
  const t = ggmlTypeByName(name);
  if (!t) throw new UsageError('BAD_TYPE', `${flag} '${name}': unknown ggml type`);
  return t.id;
}

export async function* quantizeGguf(opts: QuantizeOptions): AsyncGenerator<PipelineEvent, JobSummary> {
  const started = performance.now();
  const ft = fileTypeByName(opts.fileType);
  if (!ft || !PLANNABLE_FILE_TYPES.includes(ft.name)) {
    throw new UsageError('BAD_FILE_TYPE', `unknown or unsupported file type '${opts.fileType}' (supported: ${PLANNABLE_FILE_TYPES.join(', ')})`);
  }
  if (resolve(opts.input) === resolve(opts.output)) throw new UsageError('SAME_FILE', `output ${opts.output} is the input file; choose another name`);
  const overrides = (opts.overrides ?? []).map(parseTensorTypeOverride);
  const outputTensorType = typeFlag('--output-tensor-type', opts.outputTensorType);
  const tokenEmbeddingType = typeFlag('--token-embedding-type', opts.tokenEmbeddingType);

  yield { type: 'phase', phase: 'plan', message: `reading ${opts.input}` };
  const src = await openFileSource(opts.input);
  try {
    const file = await readGguf(src);
    const facts = modelFactsFromMetadata((key) => getKv(file, key)?.value);
    const plans = planTensorTypes(file.tensors, facts, ft, { pure: opts.pure, overrides, allowRequantize: opts.allowRequantize, outputTensorType, tokenEmbeddingType });
    checkKernels(plans, opts.input);
    if (overrides.length && !ggmlType(ft.defaultType)!.quantized) {
      yield { type: 'warning', code: 'OVERRIDES_IGNORED', message: `--tensor-type is ignored for the ${ft.name} file type (llama-quantize applies overrides only to quantized file types)` };
    }
    yield* fallbackWarnings(plans, opts.input);
    const alignment = getKv(file, 'general.alignment');
    if (alignment && alignment.value !== GGUF_DEFAULT_ALIGNMENT) {
      yield { type: 'warning', code: 'ALIGNMENT', file: opts.input, message: `dropping general.alignment=${String(alignment.value)}: the output is aligned to 32 bytes, as llama-quantize writes it` };
    }
    const kvs = quantizedFileKvs(file.kvs.filter((kv) => kv !== alignment || kv.value === GGUF_DEFAULT_ALIGNMENT), ft.id);

    const rows = plans.map(planRow);
    const plannedSize = headerBytes(kvs, plans) + plans.reduce((s, p) => s + padTo(plannedBytes(p), GGUF_DEFAULT_ALIGNMENT), 0);
    const base = {
      input: opts.input, fileType: ft.name, fallbacks: plans.filter((p) => p.fallback).length,
      inputBytes: file.fileSize, plan: rows,
    };
    if (opts.dryRun) {
      const summary: JobSummary = { output: opts.output, outputBytes: plannedSize, seconds: (performance.now() - started) / 1000, tensors: plans.length, dryRun: true, ...base };
      yield { type: 'done', summary };
      return summary;
    }

    if (opts.signal?.aborted) throw new CancelledError();
    yield { type: 'phase', phase: 'write', message: `writing ${opts.output} (${ft.name})` };
    const byName = new Map(file.tensors.map((t) => [t.name, t]));
    const raw = new ReusedBytes();
    const sources = plans.map((p) => tensorSource(src, file, byName.get(p.name)!, p, raw));
    const result = yield* writeGguf({
      outPath: opts.output, force: opts.force, kvs, tensors: sources, signal: opts.signal,
      threads: opts.threads ?? availableParallelism(), validate: opts.validate ?? true, quantizer: opts.quantizer,
    });
    const summary: JobSummary = {
      output: opts.output, outputBytes: result.outputBytes, seconds: (performance.now() - started) / 1000, tensors: plans.length,
      ...base, metrics: result.metrics,
    };
    yield { type: 'done', summary };
    return summary;
  } finally {
    await src.close();
  }
}

/** Refuses, before writing anything, a plan that needs a kernel we do not have (e.g. an IQ override). */
function checkKernels(plans: TensorPlan[], input: string): void {
  for (const p of plans) {
    if (!p.quantize) continue;
    if (!canDequantize(p.sourceType)) {
      throw new UnsupportedError('NO_KERNEL', `tensor '${p.name}' is ${typeName(p.sourceType)}, which gguf-forge cannot read as F32`, { file: input, tensor: p.name });
    }
    if (!canQuantize(p.targetType)) {
      throw new UnsupportedError('NO_KERNEL', `tensor '${p.name}': gguf-forge has no ${typeName(p.targetType)} quantizer`, { file: input, tensor: p.name });
    }
  }
}

/** Every shape fallback of a plan as a warning event: none is ever silent. */
export function* fallbackWarnings(plans: TensorPlan[], file?: string): Generator<PipelineEvent> {
  for (const p of plans) {
    if (!p.fallback) continue;
    yield { type: 'warning', code: 'FALLBACK', tensor: p.name, ...(file ? { file } : {}),
      message: `${p.name}: ${typeName(p.fallback.from)} → ${typeName(p.fallback.to)}: ${p.fallback.reason}` };
  }
}

/** A plan entry with type names, as summaries and `--dry-run` report it. */
export function planRow(p: TensorPlan): PlannedTensorRow {
  const row: PlannedTensorRow = { name: p.name, shape: p.ne, sourceType: typeName(p.sourceType), targetType: typeName(p.targetType), rule: p.rule, bytes: plannedBytes(p) };
  if (p.fallback) row.fallback = { from: typeName(p.fallback.from), to: typeName(p.fallback.to), reason: p.fallback.reason };
  return row;
}

/**
 * Reads a tensor of the input file by rows: raw for copies, widened or dequantized to F32 for
 * quantizing. Both read into the writer's buffer when it offers one (F32 straight from the file,
 * no copy); other types are read into one reused buffer and dequantized into it.
 */
function tensorSource(src: ByteSource, file: GgufFile, t: GgufTensorInfo, plan: TensorPlan, raw: ReusedBytes): TensorSource {
  const nPerRow = t.ne[0]!;
  return {
    plan,
    readRawRows: (rowStart, rowCount, into) => readTensorBytes(src, file, t, rowStart, rowCount, into),
    async readRowsF32(rowStart, rowCount, into) {
      const n = rowCount * nPerRow;
      const fits = into && into.length >= n;
      // F32 needs no conversion: read the file straight into the F32 buffer (or view the bytes in place).
      if (t.type === GgmlTypeId.F32) {
        const bytes = await readTensorBytes(src, file, t, rowStart, rowCount, fits ? new Uint8Array(into.buffer, into.byteOffset, n * 4) : undefined);
        if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, n);
        return dequantize(t.type, bytes, n);
      }
      if (!fits) return dequantize(t.type, await readTensorBytes(src, file, t, rowStart, rowCount), n);
      await raw.with(rowCount * tensorRowBytes(t), async (buf) => {
        quantKernel(t.type)!.dequantize!(await readTensorBytes(src, file, t, rowStart, rowCount, buf), into, n);
      });
      return into.subarray(0, n);
    },
  };
}

/** Size of the header the writer will produce (magic … padding), for `--dry-run`. */
export function headerBytes(kvs: GgufKv[], plans: TensorPlan[]): number {
  const str = (v: string) => 8 + Buffer.byteLength(v, 'utf8');
  let n = 24;
  for (const kv of kvs) {
    n += str(kv.key) + 4;
    if (kv.type === GgufValueType.ARRAY) {
      n += 12;
      const size = FIXED_SIZE[kv.elemType];
      const values = kv.value as ArrayLike<GgufScalar>;
      if (size !== undefined) n += size * values.length;
      else for (let i = 0; i < values.length; i++) n += str(String(values[i]));
    } else {
      n += kv.type === GgufValueType.STRING ? str(String(kv.value)) : FIXED_SIZE[kv.type]!;
    }
  }
  for (const p of plans) n += str(p.name) + 4 + 8 * p.ne.length + 4 + 8;
  return padTo(n, GGUF_DEFAULT_ALIGNMENT);
}
