/**
 * The write stage's units of work and the memory they use. A step is one (tensor, row range) in
 * output order; each step's input and output live in buffers lent by one shared pool per quantizer
 * (kernels/fast/buffer-pool.ts), so nothing big is allocated per chunk and RSS does not depend on
 * when V8 collects garbage.
 */
import { ggmlType, rowSize } from '../../kernels/ggml-types.ts';
import { SharedBufferPool } from '../../kernels/fast/buffer-pool.ts';
import type { FileRegion, Quantizer } from '../../kernels/fast/index.ts';
import type { TensorPlan } from '../policy/type-policy.ts';
import { checkSourceBytes, firstNonFinite, nonFiniteError } from './source-checks.ts';

export interface TensorSource {
  plan: TensorPlan;
  /**
   * Importance weights of the tensor's ne[0] columns (from an imatrix file): when the target
   * type's quantizer takes them (`quantizeImatrix` in kernels/quant-table.ts), the tensor is
   * quantized with them, as llama-quantize --imatrix does.
   */
  imatrix?: Float32Array;
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
  /**
   * Where rows [rowStart, …) lie as F32 in a local file, when they do (an F32 tensor of a file on
   * disk), so the quantizer's workers read them themselves (Quantizer.quantizeFile); undefined otherwise.
   */
  fileRowsF32?(rowStart: number): FileRegion | undefined;
}

export interface Step { index: number; r: number; n: number; rowsTotal: number }

const isRawCopy = (src: TensorSource) => !src.plan.quantize && !!(src.readRawRows || src.readRaw);

/** Every (tensor, row range) of the output in order: chunks of about `chunkBytes` of F32, whole tensors for raw copies read at once. */
export function stepsOf(tensors: readonly TensorSource[], chunkBytes: number): Step[] {
  const steps: Step[] = [];
  tensors.forEach((src, index) => {
    const rowsTotal = src.plan.ne.slice(1).reduce((a, b) => a * b, 1);
    if (!src.plan.quantize && !src.readRawRows && src.readRaw) return void steps.push({ index, r: 0, n: rowsTotal, rowsTotal });
    const rowsPerChunk = Math.max(1, Math.floor(chunkBytes / (4 * src.plan.ne[0]!)));
    // Per-expert importance weights (3-D tensors): no step crosses an expert, as in llama-quantize.
    const perExpert = expertRows(src);
    for (let r = 0; r === 0 || r < rowsTotal;) {
      const end = Math.min(r + rowsPerChunk, rowsTotal, perExpert ? (Math.floor(r / perExpert) + 1) * perExpert : Infinity);
      steps.push({ index, r, n: Math.max(0, end - r), rowsTotal });
      if (end <= r) break;
      r = end;
    }
  });
  return steps;
}

/** Rows per expert when the tensor's imatrix holds one row of weights per expert (ne0 · ne2 values), else 0. */
export function expertRows(src: TensorSource): number {
  const ne0 = src.plan.ne[0]!;
  return src.imatrix && src.imatrix.length > ne0 ? (src.plan.ne[1] ?? 1) : 0;
}

/** The importance weights for a step's rows (its expert's, for a per-expert imatrix). */
export function stepImatrix(src: TensorSource, step: Step): Float32Array | undefined {
  const per = expertRows(src);
  if (!src.imatrix || !per) return src.imatrix;
  const ne0 = src.plan.ne[0]!;
  const e = Math.floor(step.r / per);
  return src.imatrix.subarray(e * ne0, (e + 1) * ne0);
}

/** Pool bytes a step may need in one buffer: its F32 rows, its output, or its raw source rows. */
export function stepBytes(src: TensorSource, step: Step): number {
  const p = src.plan;
  if (isRawCopy(src)) return src.readRawRows ? step.n * rowSize(ggmlType(p.sourceType)!, p.ne[0]!) : 0;
  return Math.max(step.n * p.ne[0]! * 4, step.n * rowSize(ggmlType(p.targetType)!, p.ne[0]!));
}

/** A job's loans from the (possibly shared) pool, so a failure can write off exactly these. */
export interface Lender {
  acquire(): Uint8Array;
  release(b: Uint8Array): void;
  /** Gives up every buffer still lent: work in flight may still use them, so no later job gets them. */
  abandon(): void;
}

/**
 * One buffer pool per quantizer, kept for its life: a caller that reuses a quantizer (the TUI, a
 * batch) reuses the buffers too. Fresh buffers per job would not be freed promptly: the workers
 * have seen them, and a worker's tiny heap is rarely collected, so each job's pool would stay
 * resident (~60 MiB a job, measured). Buffers are never smaller than a chunk, so jobs share them.
 */
const POOLS = new WeakMap<Quantizer, SharedBufferPool>();

export function lenderFor(quantizer: Quantizer, capacity: number): Lender {
  let shared = POOLS.get(quantizer);
  if (!shared || shared.capacity < capacity) POOLS.set(quantizer, (shared = new SharedBufferPool(capacity)));
  const pool = shared;
  const mine = new Set<Uint8Array>();
  return {
    acquire: () => { const b = pool.acquire(); mine.add(b); return b; },
    release: (b) => { mine.delete(b); pool.release(b); },
    abandon: () => pool.abandon(mine),
  };
}

/** A step's input, and the pool buffer it was read into (if any), to give back when done with it. */
export interface Loaded { data: Uint8Array | Float32Array; held?: Uint8Array }

export const floatsOf = (buf: Uint8Array, n: number) => new Float32Array(buf.buffer, buf.byteOffset, n);

/**
 * Reads one step's rows into a pool buffer: raw bytes for copies (checked here for NaN/Inf), F32
 * for everything else (checked here only when `scan`; otherwise the workers check while quantizing).
 */
export async function loadStep(src: TensorSource, step: Step, buffers: Lender, scan: boolean): Promise<Loaded> {
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
