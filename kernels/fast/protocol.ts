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

/** What a finished job reports. */
export interface JobResult { firstNonFinite: number; metrics?: MetricsState }

/** `firstNonFinite`: index within the job's input, -1 if none or not checked. */
export type WorkerReply = ({ id: number; ok: true } & JobResult) | { id: number; ok: false; error: string } | { id: -1; ok: true; ready: true };
