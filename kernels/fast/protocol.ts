/** Messages between the pool (kernels/fast/pool.ts) and its workers (kernels/fast/worker.mjs). */
import type { WasmModule } from './wasm-kernels.mjs';
import type { MetricsState } from '../metrics.mjs';

/** `reference`: ignore the wasm kernels and run the JS reference for every type. */
/**
 * `referenceUrl`: the JS reference table (kernels/quant-table) for types without a wasm kernel:
 * quant-table.js beside a compiled pool, quant-table.ts beside the sources (then `typescript`
 * is set and the worker registers tsx's loader before importing it).
 */
export interface InitMessage { kind: 'init'; module: WasmModule; reference: boolean; referenceUrl: string; typescript: boolean }

/**
 * One piece of work on shared memory. `quantize`: `n` floats at `srcOffset` (bytes) of `src` →
 * bytes at `dstOffset` of `dst`. `dequantize`: the blocks holding `n` elements at `srcOffset` →
 * `n` floats at `dstOffset`. `n` is always whole blocks.
 */
export interface JobMessage {
  kind: 'quantize' | 'dequantize';
  id: number;
  typeId: number;
  /** The type's name and geometry (from kernels/ggml-types.ts), so the worker needs no type table. */
  typeName: string;
  blockSize: number;
  typeSize: number;
  n: number;
  src: SharedArrayBuffer;
  srcOffset: number;
  dst: SharedArrayBuffer;
  dstOffset: number;
  /** quantize only: also report the first NaN/±Inf input of the job (`firstNonFinite` in the reply). */
  check?: boolean;
  /** quantize only: also dequantize the result and report the round-trip metrics (`metrics` in the reply). */
  measure?: boolean;
  /**
   * quantize only: importance weights, one per column (`nPerRow` of them); the job then holds whole
   * rows of `nPerRow` values and runs the type's imatrix quantizer (wasm if the module has one, else
   * the reference `quantizeImatrix`; types without one ignore it, as ggml does).
   */
  imatrix?: Float32Array;
  nPerRow?: number;
}

/**
 * A quantize job that does its own I/O (kernels/fast/file-job.mjs): the worker reads `n` F32
 * values at byte `inOffset` of file descriptor `inFd` straight into its wasm memory, quantizes
 * them there and writes the bytes at `outOffset` of `outFd` (positional reads and writes: no
 * shared buffer, no copy through the main thread, no fresh memory touched per job). It also
 * checks the written rows as `ggml_validate_row_data` does, on the type's float `fields`.
 */
export interface FileJobMessage {
  kind: 'quantizeFile';
  id: number;
  typeName: string;
  blockSize: number;
  typeSize: number;
  n: number;
  inFd: number;
  inOffset: number;
  outFd: number;
  outOffset: number;
  /** The block's float fields (kernels/block-layouts.ts floatFields). */
  fields: { kind: string; offset: number }[];
  check?: boolean;
  measure?: boolean;
}

/**
 * What a finished job reports. File jobs also give the first NaN/±Inf input's value
 * (`nonFiniteValue`, the caller has no copy of the input) and the first written block with a
 * NaN/Inf scale (`invalidBlock`, -1 if none); both stop the job.
 */
export interface JobResult { firstNonFinite: number; metrics?: MetricsState; nonFiniteValue?: number; invalidBlock?: number }

/** `firstNonFinite`: index within the job's input, -1 if none or not checked. */
export type WorkerReply = ({ id: number; ok: true } & JobResult) | { id: number; ok: false; error: string } | { id: -1; ok: true; ready: true };
