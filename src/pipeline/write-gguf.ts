/**
 * The shared GGUF write stage (convert and quantize both end here). For each planned tensor, in
 * plan order: pull F32 row chunks from the source, check them for NaN/Inf, quantize them with the
 * fast Quantizer (or copy raw bytes when the type does not change), check the result the way
 * `ggml_validate_row_data` does, optionally dequantize to accumulate round-trip metrics, write,
 * and report progress as pipeline events.
 *
 * Memory stays bounded: every chunk lives in one of a few reused shared buffers of about
 * `chunkBytes` (kernels/fast/buffer-pool.ts): read into one, quantized into another, written from
 * it, and each goes back to the pool only when its last user (the async file write included) is
 * done. Nothing big is allocated per chunk, so RSS does not depend on when V8 collects garbage.
 * The output goes to a temporary name and is renamed only when complete; any failure or abort
 * removes it.
 */
import { stat } from 'node:fs/promises';
import { GgufWriter } from '../../formats/gguf/writer.ts';
import type { GgufKv, GgufValue } from '../../formats/gguf/value-types.ts';
import { createAtomicFile } from '../../formats/io/atomic-file.ts';
import { staleTempWarnings } from './stale-temps.ts';
import { CancelledError, FormatError, ValidationError } from '../../formats/errors.ts';
import { ggmlType, rowSize, GgmlTypeId as T } from '../../kernels/ggml-types.ts';
import { quantizeRows, dequantize, canDequantize } from '../../kernels/quant-table.ts';
import { createQuantizer, type CheckedQuantization, type Quantizer } from '../../kernels/fast/index.ts';
import { SharedBufferPool } from '../../kernels/fast/buffer-pool.ts';
import { RoundTripMetrics, type ErrorMetrics } from '../../kernels/metrics.mjs';
import { firstInvalidRow, firstNonFiniteBlock } from '../../kernels/validate-row.ts';
import type { PipelineEvent, TensorEvent } from './events.ts';
import type { TensorPlan } from '../policy/type-policy.ts';

export type { ErrorMetrics } from '../../kernels/metrics.mjs';
export type { Quantizer } from '../../kernels/fast/index.ts';

export interface TensorSource {
  plan: TensorPlan;
  /**
   * Rows [rowStart, rowStart + rowCount) widened to F32 (rows = ne[1..] flattened). `into` (at
   * least rowCount rows, on shared memory) is where the caller would like them: a source should
   * fill it and return a view of it, so nothing is allocated per chunk, but may return any array.
   * The caller owns `into` again as soon as the promise settles.
   */
  readRowsF32(rowStart: number, rowCount: number, into?: Float32Array): Promise<Float32Array>;
  /** The whole tensor's bytes in its source type, for copies. */
  readRaw?(): Promise<Uint8Array>;
  /** Rows of the tensor's bytes in its source type, for copies of big tensors (preferred over readRaw); `into` as for readRowsF32. */
  readRawRows?(rowStart: number, rowCount: number, into?: Uint8Array): Promise<Uint8Array>;
}

export interface WriteGgufArgs {
  outPath: string;
  force?: boolean;
  kvs: GgufKv[];
  tensors: TensorSource[];
  threads?: number;
  /** Dequantize every quantized chunk and accumulate round-trip metrics (default true). */
  validate?: boolean;
  signal?: AbortSignal;
  /** F32 bytes per chunk (default 16 MiB: seven buffers of it at most, and no slower than 32 MiB on the benches); at least one row. */
  chunkBytes?: number;
  /** Use this quantizer instead of creating (and closing) a fast one. */
  quantizer?: Quantizer;
}

export interface WriteGgufResult {
  outputBytes: number;
  metrics: Record<string, ErrorMetrics>;
}

const DEFAULT_CHUNK_BYTES = 16 << 20;
const typeName = (t: number) => ggmlType(t)?.name ?? `type ${t}`;

export async function* writeGguf(args: WriteGgufArgs): AsyncGenerator<PipelineEvent, WriteGgufResult> {
  const { signal } = args;
  const validate = args.validate ?? true;
  const checkAbort = () => {
    if (signal?.aborted) throw new CancelledError(`cancelled while writing ${args.outPath}`);
  };
  checkAbort();
  const atomic = await createAtomicFile(args.outPath, { force: args.force });
  yield* staleTempWarnings(atomic.staleRemoved);
  let writer: GgufWriter | undefined;
  let committed = false;
  let quantizer = args.quantizer;
  const ownQuantizer = !quantizer;
  let buffers: { pool: SharedBufferPool; mine: Set<Uint8Array> } | undefined;
  try {
    if (!quantizer) {
      const q = await openQuantizer(args.threads);
      quantizer = q.quantizer;
      if (q.warning) yield { type: 'warning', code: 'FAST_KERNELS_UNAVAILABLE', message: q.warning };
    }
    writer = await GgufWriter.open(atomic.tmpPath);
    for (const kv of args.kvs) writer.addKv(kv.key, valueOf(kv));
    for (const s of args.tensors) writer.addTensor(s.plan.name, s.plan.ne, s.plan.targetType);
    await writer.writeHeader();

    const metrics: Record<string, ErrorMetrics> = {};
    const count = args.tensors.length;
    const chunkBytes = args.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    // Every (tensor, row range) step in output order, overlapped three ways: step k+1 is read
    // while step k is quantized, and step k-1 is checked, measured and written meanwhile, so the
    // workers always have the next chunk queued and never wait on the main thread.
    const steps: Step[] = [];
    args.tensors.forEach((src, index) => {
      const rowsTotal = src.plan.ne.slice(1).reduce((a, b) => a * b, 1);
      if (!src.plan.quantize && !src.readRawRows && src.readRaw) return void steps.push({ index, r: 0, n: rowsTotal, rowsTotal });
      const rowsPerChunk = Math.max(1, Math.floor(chunkBytes / (4 * src.plan.ne[0]!)));
      for (let r = 0; r === 0 || r < rowsTotal; r += rowsPerChunk) steps.push({ index, r, n: Math.min(rowsPerChunk, rowsTotal - r), rowsTotal });
    });
    // In use at once, at most: the input being read, the input and output being quantized, the
    // previous step's input and output (metrics, then its write), the output before that still
    // being written, and the dequantized chunk for metrics: seven buffers whatever the model size.
    // This job's loans from the (possibly shared) pool, so a failure can write off exactly these.
    const shared = bufferPoolFor(quantizer, steps.reduce((m, s) => Math.max(m, stepBytes(args.tensors[s.index]!, s)), chunkBytes));
    const mine = new Set<Uint8Array>();
    buffers = { pool: shared, mine };
    const pool: Lender = {
      acquire: () => { const b = shared.acquire(); mine.add(b); return b; },
      release: (b) => { mine.delete(b); shared.release(b); },
    };
    // Workers find NaN/Inf while they read the input, so the main thread need not scan it.
    const checked = quantizer.quantizeChecked?.bind(quantizer);
    const q = quantizer;
    const load = (k: number): Promise<Loaded> | undefined => {
      const step = steps[k];
      if (!step) return undefined;
      const src = args.tensors[step.index]!;
      const pending = loadStep(src, step, pool, !(src.plan.quantize && checked));
      pending.catch(() => undefined); // awaited later; never an unhandled rejection if we stop first
      return pending;
    };
    /** Starts quantizing a loaded step (nothing to do for copies); its result is awaited in `finish`. */
    const start = (step: Step, { data, held }: Loaded): Started => {
      const p = args.tensors[step.index]!.plan;
      const nPerRow = p.ne[0]!;
      if (!(data instanceof Float32Array) || (!p.quantize && p.targetType === T.F32)) {
        // A copy: raw source bytes, or F32 rows that stay F32, written as they were read.
        const out = data instanceof Float32Array ? new Uint8Array(data.buffer, data.byteOffset, step.n * nPerRow * 4) : data;
        return { step, data, held, outHeld: held, result: Promise.resolve({ bytes: out, firstNonFinite: -1 }) };
      }
      const outHeld = pool.acquire();
      const result: Promise<CheckedQuantization> = !p.quantize
        ? Promise.resolve({ bytes: quantizeRows(p.targetType, data, step.n, nPerRow), firstNonFinite: -1 })
        : checked
          ? checked(p.targetType, data, step.n, nPerRow, outHeld)
          : q.quantize(p.targetType, data, step.n, nPerRow, outHeld).then((bytes) => ({ bytes, firstNonFinite: -1 }));
      result.catch(() => undefined); // awaited in finish; never an unhandled rejection if we stop first
      return { step, data, held, outHeld, result, quantized: true };
    };

    let pendingWrite: Promise<void> = Promise.resolve();
    let acc: RoundTripMetrics | undefined;
    let bytes = 0;
    /** Checks a started step's result, adds its metrics, hands it to the writer and reports it. */
    async function* finish({ step, data, held, outHeld, result, quantized }: Started): AsyncGenerator<PipelineEvent, void> {
      const { index, r, n, rowsTotal } = step;
      const p = args.tensors[index]!.plan;
      const nPerRow = p.ne[0]!;
      const ev = (state: TensorEvent['state'], extra: Partial<TensorEvent> = {}): TensorEvent => ({
        type: 'tensor', state, name: p.name, index, count, sourceType: typeName(p.sourceType), targetType: typeName(p.targetType),
        shape: p.ne, rowsTotal, ...extra,
      });
      if (r === 0) {
        yield ev('start', { rowsDone: 0 });
        acc = p.quantize && validate ? new RoundTripMetrics() : undefined;
        bytes = 0;
      }
      const { bytes: out, firstNonFinite: bad } = await result;
      if (quantized) {
        const f32 = data as Float32Array;
        if (bad >= 0) throw nonFiniteError(p, r * nPerRow + bad, f32[bad]!);
        const badRow = firstInvalidRow(ggmlType(p.targetType)!, out, nPerRow);
        if (badRow >= 0) {
          throw new ValidationError('QUANT_OVERFLOW', `tensor '${p.name}': quantized row ${r + badRow} has a NaN or Inf scale (values too large for ${typeName(p.targetType)}); llama.cpp rejects this as "quantized data validation failed"`, { tensor: p.name });
        }
        if (acc) {
          const scratch = pool.acquire();
          acc.add(f32.subarray(0, n * nPerRow), await q.dequantize(p.targetType, out, n * nPerRow, floatsOf(scratch, n * nPerRow)));
          pool.release(scratch);
        }
        if (held) pool.release(held);
      }
      await pendingWrite;
      // Empty tensors have no bytes to stream (the writer steps over them). The output's buffer
      // goes back to the pool only once the write has finished with it.
      const release = () => { if (outHeld) pool.release(outHeld); };
      if (out.length > 0) pendingWrite = writer!.writeTensorData(p.name, out).finally(release);
      else release();
      pendingWrite.catch(() => undefined);
      bytes += out.length;
      if (r + n < rowsTotal) {
        yield ev('progress', { rowsDone: r + n, bytes });
        return;
      }
      const done: Partial<TensorEvent> = { rowsDone: rowsTotal, bytes };
      if (acc) {
        const m = acc.result();
        metrics[p.name] = m;
        done.metrics = m;
      }
      yield ev('done', done);
    }

    let next = load(0);
    let previous: Started | undefined;
    for (let k = 0; k <= steps.length; k++) {
      checkAbort();
      let current: Started | undefined;
      if (k < steps.length) {
        const loaded = await next!;
        next = load(k + 1);
        current = start(steps[k]!, loaded);
      }
      if (previous) yield* finish(previous);
      previous = current;
    }
    await pendingWrite;
    await writer.finish();
    writer = undefined;
    checkAbort();
    await atomic.commit();
    committed = true;
    return { outputBytes: (await stat(atomic.path)).size, metrics };
  } finally {
    // Also reached when the consumer stops early (generator.return()), where no catch runs.
    if (!committed) {
      // Work in flight may still use the buffers lent out: never hand those to a later job.
      buffers?.pool.abandon(buffers.mine);
      await writer?.abort().catch(() => undefined);
      await atomic.abort();
    }
    if (ownQuantizer) await quantizer?.close();
  }
}

interface Step { index: number; r: number; n: number; rowsTotal: number }

/**
 * One buffer pool per quantizer, kept for its life: a caller that reuses a quantizer (the TUI, a
 * batch) reuses the buffers too. Fresh buffers per job would not be freed promptly: the workers
 * have seen them, and a worker's tiny heap is rarely collected, so each job's pool would stay
 * resident (~60 MiB a job, measured). Buffers are never smaller than a chunk, so jobs share them.
 */
type Lender = Pick<SharedBufferPool, 'acquire' | 'release'>;

const POOLS = new WeakMap<Quantizer, SharedBufferPool>();
function bufferPoolFor(quantizer: Quantizer, capacity: number): SharedBufferPool {
  const have = POOLS.get(quantizer);
  if (have && have.capacity >= capacity) return have;
  const pool = new SharedBufferPool(capacity);
  POOLS.set(quantizer, pool);
  return pool;
}

/** A step's input, and the pool buffer it was read into (if any), to give back when done with it. */
interface Loaded { data: Uint8Array | Float32Array; held?: Uint8Array }

/** A step whose output is on its way: `outHeld` is the buffer it lands in (for copies, the input's). */
interface Started extends Loaded {
  step: Step;
  outHeld?: Uint8Array;
  result: Promise<CheckedQuantization>;
  /** False for copies, which have nothing to check or measure. */
  quantized?: boolean;
}

const isRawCopy = (src: TensorSource) => !src.plan.quantize && !!(src.readRawRows || src.readRaw);

/** Pool bytes a step may need in one buffer: its F32 rows, its output, or its raw source rows. */
function stepBytes(src: TensorSource, step: Step): number {
  const p = src.plan;
  if (isRawCopy(src)) return src.readRawRows ? step.n * rowSize(ggmlType(p.sourceType)!, p.ne[0]!) : 0;
  return Math.max(step.n * p.ne[0]! * 4, step.n * rowSize(ggmlType(p.targetType)!, p.ne[0]!));
}

const floatsOf = (buf: Uint8Array, n: number) => new Float32Array(buf.buffer, buf.byteOffset, n);

/**
 * Reads one step's rows into a pool buffer: raw bytes for copies (checked here for NaN/Inf), F32
 * for everything else (checked here only when `scan`; otherwise the workers check while quantizing).
 */
async function loadStep(src: TensorSource, step: Step, buffers: Lender, scan: boolean): Promise<Loaded> {
  const p = src.plan;
  const first = step.r * p.ne[0]!;
  if (isRawCopy(src) && !src.readRawRows) {
    const raw = await src.readRaw!();
    checkSourceBytes(p, raw, first);
    return { data: raw };
  }
  const held = buffers.acquire();
  try {
    if (isRawCopy(src)) {
      const raw = await src.readRawRows!(step.r, step.n, held);
      checkSourceBytes(p, raw, first);
      return { data: raw, held };
    }
    const f32 = await src.readRowsF32(step.r, step.n, floatsOf(held, step.n * p.ne[0]!));
    if (scan) {
      const bad = firstNonFinite(f32, step.n * p.ne[0]!);
      if (bad >= 0) throw nonFiniteError(p, first + bad, f32[bad]!);
    }
    return { data: f32, held };
  } catch (err) {
    buffers.release(held);
    throw err;
  }
}

/** The fast (wasm + workers) quantizer; if it cannot start, the in-process reference kernels, said out loud. */
async function openQuantizer(threads?: number): Promise<{ quantizer: Quantizer; warning?: string }> {
  try {
    return { quantizer: await createQuantizer(threads ? { threads } : {}) };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { quantizer: referenceQuantizer(), warning: `fast kernels unavailable (${why}); using the single-threaded reference kernels (same bytes, slower)` };
  }
}

/** The JS reference kernels behind the Quantizer interface. */
export function referenceQuantizer(): Quantizer {
  return {
    threads: 1,
    quantize: async (type, src, nrows, nPerRow) => quantizeRows(type, src, nrows, nPerRow),
    dequantize: async (type, src, n) => dequantize(type, src, n),
    close: async () => undefined,
  };
}

function valueOf(kv: GgufKv): GgufValue {
  const { key: _key, ...value } = kv;
  return value as GgufValue;
}

function nonFiniteError(p: TensorPlan, element: number, value: number): FormatError {
  const row = Math.floor(element / p.ne[0]!);
  return new FormatError('NON_FINITE', `tensor '${p.name}' has ${value} at element ${element} (row ${row}, column ${element % p.ne[0]!}); refusing to quantize non-finite weights`, { tensor: p.name });
}

/** Index of the first NaN/Inf among the first n floats, or −1. */
function firstNonFinite(x: Float32Array, n: number): number {
  for (let i = 0; i < n; i++) if (!Number.isFinite(x[i]!)) return i;
  return -1;
}

/**
 * Copies skip the F32 path, so check their raw bytes here, as llama.cpp's loader does
 * (`check_tensors`): NaN/Inf floats, or NaN/Inf fp16 scales in quantized blocks.
 */
function checkSourceBytes(p: TensorPlan, raw: Uint8Array, firstElement: number): void {
  const t = ggmlType(p.sourceType)!;
  const block = firstNonFiniteBlock(t, raw);
  if (block < 0) return;
  if (t.quantized) {
    const row = Math.floor(firstElement / p.ne[0]!) + Math.floor(block / (p.ne[0]! / t.blockSize));
    throw new FormatError('NON_FINITE', `tensor '${p.name}' (${t.name}) has a NaN or Inf scale in row ${row}`, { tensor: p.name });
  }
  const value = canDequantize(t.id) ? dequantize(t.id, raw.subarray(block * t.typeSize, (block + 1) * t.typeSize), 1)[0]! : NaN;
  throw nonFiniteError(p, firstElement + block, value);
}

/** Bytes of a tensor in the output (for plans and dry runs). */
export function plannedBytes(p: Pick<TensorPlan, 'ne' | 'targetType'>): number {
  const t = ggmlType(p.targetType)!;
  return rowSize(t, p.ne[0]!) * p.ne.slice(1).reduce((a, b) => a * b, 1);
}
