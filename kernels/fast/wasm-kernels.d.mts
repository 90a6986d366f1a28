/** Types of wasm-kernels.mjs (plain JS so workers need no TypeScript loader). */
export declare const PIECE_ELEMS: number;
/** Elements per piece of a file job (file-job.mjs); the instance's regions are this size. */
export declare const FILE_PIECE_ELEMS: number;
/** Float64 in the wasm round-trip metrics state (RoundTripMetrics.fromState). */
export declare const METRICS_STATE: number;
/** A type's name and geometry, as the ggml type table gives them. */
export interface WasmType { readonly name: string; readonly blockSize: number; readonly typeSize: number }
/** Type names with both a quantize and a dequantize export in the module. */
export declare function wasmKernelNames(module: WasmModule): Set<string>;
/** Type names with a `quantize<NAME>Imatrix` export (with or without a plain kernel pair). */
export declare function wasmImatrixNames(module: WasmModule): Set<string>;
/** Type names with a `dequantize<NAME>` export (with or without a quantizer). */
export declare function wasmDequantNames(module: WasmModule): Set<string>;
/** A compiled WebAssembly.Module (the project's tsconfig has no DOM lib to name the type). */
export type WasmModule = object;
export declare class WasmKernels {
  constructor(module: WasmModule);
  /** wasmKernelNames(module). */
  readonly names: Set<string>;
  /** wasmImatrixNames(module). */
  readonly imatrixNames: Set<string>;
  /** wasmDequantNames(module). */
  readonly dequantNames: Set<string>;
  /** The instance's exports and memory, and its three FILE_PIECE_ELEMS-float regions (input, output, round trip) for jobs that work in place. */
  readonly exports: Record<string, (...args: number[]) => number>;
  readonly memory: { readonly buffer: ArrayBuffer };
  readonly inPtr: number;
  readonly outPtr: number;
  readonly backPtr: number;
  /** Where a job's roundTripAccumulate state lives (METRICS_STATE float64). */
  readonly metricsPtr: number;
  kernel(op: 'quantize' | 'dequantize', t: WasmType): (src: number, dst: number, blocks: number) => void;
  /** With `check`, returns the index (from srcOff) of the first NaN/±Inf input, else -1. */
  quantize(t: WasmType, src: Float32Array, srcOff: number, n: number, dst: Uint8Array, dstOff: number, check?: boolean): number;
  /**
   * Whole rows of `nPerRow` values with importance weights `imatrix[0..nPerRow)`; `n` is a
   * multiple of nPerRow. `check` as for quantize.
   */
  quantizeImatrix(t: WasmType, src: Float32Array, srcOff: number, n: number, dst: Uint8Array, dstOff: number, imatrix: Float32Array, nPerRow: number, check?: boolean): number;
  dequantize(t: WasmType, src: Uint8Array, srcOff: number, n: number, dst: Float32Array, dstOff: number): void;
}
