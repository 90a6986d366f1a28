/**
 * The fast path: WebAssembly SIMD kernels (kernels/wasm) run on a pool of worker threads that
 * split the blocks of a call between them through SharedArrayBuffer. Output bytes are the same
 * as the reference path (kernels/quant-table.ts) and llama.cpp for any thread count; the tests in
 * test/fast-*.test.ts prove it.
 */
import { availableParallelism } from 'node:os';
import { ggmlType, rowSize, type GgmlType } from '../ggml-types.ts';
import { floatFields } from '../block-layouts.ts';
import { canDequantize, canQuantize, hasImatrixQuantizer } from '../quant-support.ts';
import { loadWasmModule } from './wasm-module.ts';
import { wasmKernelNames } from './wasm-kernels.mjs';
import { WorkerPool, type Job } from './pool.ts';
import { takePrestartedPool } from './prestart.ts';
import type { JobMessage, JobResult } from './protocol.ts';
import { RoundTripMetrics } from '../metrics.mjs';

export interface CheckedQuantization {
  bytes: Uint8Array;
  /** Element index of the first NaN/±Inf in the input, or -1. */
  firstNonFinite: number;
  /** With `measure`: the round-trip error of these rows, measured by the workers that quantized them. */
  metrics?: RoundTripMetrics;
}

export interface CheckOptions {
  /** Also dequantize each job's output where it was made and accumulate round-trip metrics. */
  measure?: boolean;
  /**
   * Importance weights, one per column (≥ nPerRow values): quantize as
   * `ggml_quantize_chunk(type, src, dst, 0, nrows, nPerRow, imatrix)` does (types whose
   * quantizer takes none ignore it). Jobs then hold whole rows.
   */
  imatrix?: Float32Array;
}

/** Bytes in a file: an open descriptor (used with positional reads or writes only) and the offset there. */
export interface FileRegion { fd: number; offset: number }

/** What `quantizeFile` found; the bytes are in the output file. */
export interface FileQuantization {
  /** Element index of the first NaN/±Inf in the input, or -1; then nothing after its piece was written. */
  firstNonFinite: number;
  /** That element's value. */
  nonFiniteValue?: number;
  /** The first row whose quantized scales are NaN/Inf (`ggml_validate_row_data`), or -1. */
  invalidRow: number;
  metrics?: RoundTripMetrics;
}

/**
 * Results are views on a fresh SharedArrayBuffer per call, owned by the caller (never reused by
 * the pool), or on the caller's own `out`; Node's fs, streams, Buffer and crypto accept them like
 * any Uint8Array.
 */
export interface Quantizer {
  readonly threads: number;
  /**
   * With `out` (≥ the result's bytes), the result is written there and `out.subarray(0, bytes)` is
   * returned; an `out` on shared memory (sharedBytes) is written by the workers directly, so a
   * caller that reuses one allocates nothing per call.
   */
  quantize(typeId: number, src: Float32Array, nrows: number, nPerRow: number, out?: Uint8Array): Promise<Uint8Array>;
  /**
   * `quantize`, plus the first NaN/±Inf of the input found by the workers while they copy it (no
   * extra pass on the caller's thread) and, with `measure`, the round-trip metrics measured where
   * each piece was quantized. Same bytes as `quantize`.
   */
  quantizeChecked(typeId: number, src: Float32Array, nrows: number, nPerRow: number, out?: Uint8Array, opts?: CheckOptions): Promise<CheckedQuantization>;
  /**
   * `n` elements as F32. With `out` (≥ n floats), writes there and returns `out.subarray(0, n)`;
   * an `out` from sharedFloat32Array is written by the workers directly, so a caller that reuses
   * one avoids allocating (and page-faulting) fresh memory on every call.
   */
  dequantize(typeId: number, src: Uint8Array, n: number, out?: Float32Array): Promise<Float32Array>;
  /** True when `quantizeFile` can make `typeId` (a wasm kernel, on workers that run wasm). */
  quantizesFiles?(typeId: number): boolean;
  /**
   * `quantizeChecked` from file to file: `nrows` F32 rows at `src` are read by the workers
   * themselves, straight into their wasm memory, and the result is written by them at `dst` with
   * positional writes; the caller allocates and copies nothing. Same bytes as `quantize`; the
   * rows are also checked as `ggml_validate_row_data` does. Only for types `quantizesFiles` accepts.
   */
  quantizeFile?(typeId: number, src: FileRegion, nrows: number, nPerRow: number, dst: FileRegion, opts?: CheckOptions): Promise<FileQuantization>;
  close(): Promise<void>;
}

/**
 * A Float32Array on shared memory. Filling one of these (instead of an ordinary array) before
 * calling `quantize` saves the copy into the pool's shared scratch: workers read it directly.
 */
export function sharedFloat32Array(length: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(length * 4));
}

/** Bytes on shared memory: an `out` for quantize (or a read buffer whose F32 view feeds it) that workers use directly. */
export function sharedBytes(length: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(length));
}

/** True when the type has a wasm kernel (others fall back to the JS reference in the workers). */
export function fastSupports(typeId: number): boolean {
  const name = ggmlType(typeId)?.name;
  return name !== undefined && wasmNames().has(name);
}

let names: Set<string> | undefined;
/** The module's kernels by type name (none when the module cannot be loaded: the workers then run the reference). */
function wasmNames(): Set<string> {
  if (!names) {
    try {
      names = wasmKernelNames(loadWasmModule());
    } catch {
      return new Set();
    }
  }
  return names;
}

/**
 * Blocks per job: small enough that 2+ workers share even a modest tensor and stragglers are
 * short, large enough that message overhead (~tens of µs) stays well under 1%.
 */
function blocksPerJob(t: GgmlType, totalBlocks: number, threads: number): number {
  const minBlocks = Math.max(1, Math.ceil(16384 / t.blockSize));
  return Math.max(minBlocks, Math.ceil(totalBlocks / (threads * 4)));
}

/** Staging memory: a SharedArrayBuffer reused between calls that only grows (to the largest call seen). */
class SharedScratch {
  private buf = new SharedArrayBuffer(0);
  get(bytes: number): SharedArrayBuffer {
    if (this.buf.byteLength < bytes) this.buf = new SharedArrayBuffer(Math.ceil(bytes / 4096) * 4096);
    return this.buf;
  }
}

function typeOrThrow(typeId: number): GgmlType {
  const t = ggmlType(typeId);
  if (!t) throw new RangeError(`unknown ggml type ${typeId}`);
  return t;
}

export interface QuantizerOptions {
  /** Worker threads; default `os.availableParallelism()`. */
  threads?: number;
  /** Run the JS reference in the workers instead of wasm (diagnosis, and to test the fallback). */
  reference?: boolean;
  /** The calling thread is one of the `threads` (pool.ts): threads − 1 workers; for headless callers. */
  callerWorks?: boolean;
}

export async function createQuantizer(opts: QuantizerOptions = {}): Promise<Quantizer> {
  const threads = opts.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer, got ${threads}`);
  const pool = await ((!opts.reference && takePrestartedPool(threads)) || WorkerPool.start(threads, loadWasmModule(), opts.reference ?? false, undefined, opts.callerWorks));
  const useWasm = (typeId: number) => !opts.reference && fastSupports(typeId);
  const input = new SharedScratch();
  const output = new SharedScratch();
  let chain: Promise<unknown> = Promise.resolve();
  let closed = false;

  const unscratched = new Set<Promise<unknown>>();
  // Calls that stage through the scratch buffers run one after another. Calls on shared memory
  // only (input and output) touch no scratch, so they start at once: their jobs queue in the pool
  // behind the previous call's, and the workers go from one call to the next without waiting for
  // the main thread to see the first one finish.
  const serial = <T>(fn: () => Promise<T>, needsScratch = true): Promise<T> => {
    if (closed) return Promise.reject(new Error('quantizer is closed'));
    if (!needsScratch) {
      const r = fn();
      const settled = r.catch(() => undefined);
      unscratched.add(settled);
      void settled.then(() => unscratched.delete(settled));
      return r;
    }
    const r = chain.then(fn);
    chain = r.catch(() => undefined);
    return r;
  };
  const isShared = (v?: ArrayBufferView) => !v || v.buffer instanceof SharedArrayBuffer;
  const scratchFree = (src: ArrayBufferView, out?: ArrayBufferView) => src.buffer instanceof SharedArrayBuffer && isShared(out);

  /**
   * Shares the input with the workers: as-is if already shared, else staged into scratch. Staging
   * copies each job's slice just before the job is handed out (`stage`), so the first workers
   * compute while the rest is still being copied.
   */
  const share = (view: ArrayBufferView, bytes: number): { buf: SharedArrayBuffer; off: number; stage?: (job: Job) => void } => {
    if (view.buffer instanceof SharedArrayBuffer) return { buf: view.buffer, off: view.byteOffset };
    const buf = input.get(bytes);
    const from = new Uint8Array(view.buffer, view.byteOffset, bytes);
    const to = new Uint8Array(buf, 0, bytes);
    const stage = (job: Job) => {
      if (job.kind === 'quantizeFile') return;
      const len = job.kind === 'quantize' ? job.n * 4 : (job.n / job.blockSize) * job.typeSize;
      to.set(from.subarray(job.srcOffset, job.srcOffset + len), job.srcOffset);
    };
    return { buf, off: 0, stage };
  };

  /** `rowBlocks`: jobs hold whole rows of this many blocks (imatrix quantizers work per row). */
  const split = <J extends Job = Omit<JobMessage, 'id'>>(t: GgmlType, totalBlocks: number, make: (firstBlock: number, blocks: number) => J, rowBlocks = 1): J[] => {
    const step = Math.ceil(blocksPerJob(t, totalBlocks, threads) / rowBlocks) * rowBlocks;
    const jobs: J[] = [];
    for (let b = 0; b < totalBlocks; b += step) jobs.push(make(b, Math.min(step, totalBlocks - b)));
    return jobs;
  };

  const quantizeRows = async (
    typeId: number, src: Float32Array, nrows: number, nPerRow: number, check: boolean, out?: Uint8Array, measure = false, imatrix?: Float32Array,
  ): Promise<CheckedQuantization> => {
    const t = typeOrThrow(typeId);
    // An imatrix goes to the workers only for types that use one (some, IQ2/IQ3/IQ1, have no other quantizer).
    const usesImatrix = imatrix !== undefined && hasImatrixQuantizer(typeId);
    if (usesImatrix && imatrix.length < nPerRow) throw new RangeError(`${t.name}: importance matrix has ${imatrix.length} values, need ${nPerRow}`);
    const outBytes = nrows * rowSize(t, nPerRow);
    const n = nrows * nPerRow;
    if (src.length < n) throw new RangeError(`${t.name}: source has ${src.length} floats, need ${n}`);
    if (out && out.length < outBytes) throw new RangeError(`${t.name}: output has ${out.length} bytes, need ${outBytes}`);
    if (typeId === 0) {
      const from = new Uint8Array(src.buffer, src.byteOffset, n * 4);
      const bytes = out ? out.subarray(0, n * 4) : new Uint8Array(n * 4);
      bytes.set(from);
      const metrics = measure ? new RoundTripMetrics() : undefined;
      metrics?.add(src.subarray(0, n), src.subarray(0, n));
      return { bytes, firstNonFinite: check ? src.subarray(0, n).findIndex((v) => !Number.isFinite(v)) : -1, metrics };
    }
    const qw = usesImatrix ? imatrix.slice(0, nPerRow) : undefined;
    if (!useWasm(typeId) && !canQuantize(typeId) && !qw) throw new RangeError(`no quantizer for ggml type ${t.name}`);
    const totalBlocks = n / t.blockSize;
    const { buf, off, stage } = share(src, n * 4);
    // Workers write the result straight into memory the caller then owns: the caller's shared
    // `out`, reused scratch (then copied to a non-shared `out`), or fresh memory.
    const direct = out?.buffer instanceof SharedArrayBuffer;
    const dst = direct ? (out!.buffer as SharedArrayBuffer) : out ? output.get(outBytes) : new SharedArrayBuffer(outBytes);
    const base = direct ? out!.byteOffset : 0;
    const jobs = split(t, totalBlocks, (b, blocks) => ({
      kind: 'quantize', typeId, typeName: t.name, blockSize: t.blockSize, typeSize: t.typeSize, n: blocks * t.blockSize,
      src: buf, srcOffset: off + b * t.blockSize * 4, dst, dstOffset: base + b * t.typeSize, check, measure,
      ...(qw ? { imatrix: qw, nPerRow } : {}),
    }), qw ? nPerRow / t.blockSize : 1);
    const found = await pool.runAll(jobs, stage);
    // Jobs are in input order, so the first job that saw one holds the first non-finite value.
    const j = found.findIndex((r) => r.firstNonFinite >= 0);
    const firstNonFinite = j < 0 ? -1 : (jobs[j]!.srcOffset - off) / 4 + found[j]!.firstNonFinite;
    let metrics: RoundTripMetrics | undefined;
    if (measure) {
      metrics = new RoundTripMetrics();
      for (const r of found) if (r.metrics) metrics.merge(r.metrics);
    }
    if (!out) return { bytes: new Uint8Array(dst), firstNonFinite, metrics };
    if (!direct) out.set(new Uint8Array(dst, 0, outBytes));
    return { bytes: out.subarray(0, outBytes), firstNonFinite, metrics };
  };

  return {
    threads,
    quantize: (typeId, src, nrows, nPerRow, out) => serial(() => quantizeRows(typeId, src, nrows, nPerRow, false, out), !scratchFree(src, out)).then((r) => r.bytes),
    quantizeChecked: (typeId, src, nrows, nPerRow, out, o) => serial(() => quantizeRows(typeId, src, nrows, nPerRow, true, out, o?.measure, o?.imatrix), !scratchFree(src, out)),
    dequantize: (typeId, src, n, out) => serial(async () => {
      const t = typeOrThrow(typeId);
      if (n % t.blockSize !== 0) throw new RangeError(`${t.name}: ${n} elements is not a multiple of block size ${t.blockSize}`);
      const totalBlocks = n / t.blockSize;
      const inBytes = totalBlocks * t.typeSize;
      if (src.length < inBytes) throw new RangeError(`${t.name}: source has ${src.length} bytes, need ${inBytes}`);
      if (out && out.length < n) throw new RangeError(`${t.name}: output has ${out.length} floats, need ${n}`);
      if (typeId === 0) {
        const result = out ? out.subarray(0, n) : new Float32Array(n);
        new Uint8Array(result.buffer, result.byteOffset, n * 4).set(new Uint8Array(src.buffer, src.byteOffset, n * 4));
        return result;
      }
      if (!useWasm(typeId) && !canDequantize(typeId)) throw new RangeError(`no dequantizer for ggml type ${t.name}`);
      const { buf, off, stage } = share(src, inBytes);
      // Where the workers write: the caller's shared `out`, reused scratch (then copied to a
      // non-shared `out`), or fresh memory that becomes the result.
      const direct = out?.buffer instanceof SharedArrayBuffer;
      const dst = direct ? (out!.buffer as SharedArrayBuffer) : out ? output.get(n * 4) : new SharedArrayBuffer(n * 4);
      const base = direct ? out!.byteOffset : 0;
      await pool.runAll(split(t, totalBlocks, (b, blocks) => ({
        kind: 'dequantize', typeId, typeName: t.name, blockSize: t.blockSize, typeSize: t.typeSize, n: blocks * t.blockSize,
        src: buf, srcOffset: off + b * t.typeSize, dst, dstOffset: base + b * t.blockSize * 4,
      })), stage);
      if (!out) return new Float32Array(dst);
      if (!direct) out.set(new Float32Array(dst, 0, n));
      return out.subarray(0, n);
    }, !scratchFree(src, out)),
    quantizesFiles: (typeId) => useWasm(typeId),
    quantizeFile: (typeId, src, nrows, nPerRow, dst, o) => serial(async () => {
      const t = typeOrThrow(typeId);
      if (!useWasm(typeId)) throw new RangeError(`${t.name}: no wasm kernel to quantize files with`);
      const fields = t.layout ? floatFields(t.layout).map(({ kind, offset }) => ({ kind, offset })) : [];
      const jobs = split(t, (nrows * nPerRow) / t.blockSize, (b, blocks) => ({
        kind: 'quantizeFile' as const, typeName: t.name, blockSize: t.blockSize, typeSize: t.typeSize, n: blocks * t.blockSize,
        inFd: src.fd, inOffset: src.offset + b * t.blockSize * 4, outFd: dst.fd, outOffset: dst.offset + b * t.typeSize,
        fields, check: true, measure: o?.measure,
      }));
      // Every job settles before the call does, even when one fails: the caller may close the files
      // as soon as it has an answer, and a job still running would then write into a closed (or
      // reused) descriptor.
      const outcomes = await Promise.allSettled(jobs.map((job) => pool.runAll([job])));
      const failed = outcomes.find((x) => x.status === 'rejected');
      if (failed) throw failed.reason;
      const found = outcomes.map((x) => (x as PromiseFulfilledResult<JobResult[]>).value[0]!);
      const metrics = o?.measure ? new RoundTripMetrics() : undefined;
      for (const r of found) if (r.metrics) metrics!.merge(r.metrics);
      // Jobs are in input order: the first one that stopped holds the first bad element or row.
      const j = found.findIndex((r) => r.firstNonFinite >= 0 || (r.invalidBlock ?? -1) >= 0);
      const r = found[j];
      const first = j < 0 ? 0 : (jobs[j]!.inOffset - src.offset) / 4;
      return {
        firstNonFinite: r && r.firstNonFinite >= 0 ? first + r.firstNonFinite : -1,
        nonFiniteValue: r?.nonFiniteValue,
        invalidRow: r && (r.invalidBlock ?? -1) >= 0 ? Math.floor((first + r.invalidBlock! * t.blockSize) / nPerRow) : -1,
        metrics,
      };
    }, false),
    close: async () => {
      if (closed) return;
      closed = true;
      await chain;
      await Promise.all(unscratched);
      await pool.close();
    },
  };
}
