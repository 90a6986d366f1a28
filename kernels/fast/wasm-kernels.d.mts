/** Types of wasm-kernels.mjs (plain JS so workers need no TypeScript loader). */
export declare const PIECE_ELEMS: number;
/** A type's name and geometry, as the ggml type table gives them. */
export interface WasmType { readonly name: string; readonly blockSize: number; readonly typeSize: number }
/** Type names with both a quantize and a dequantize export in the module. */
export declare function wasmKernelNames(module: WasmModule): Set<string>;
/** Names of wasmKernelNames(module) that also have a `quantize<NAME>Imatrix` export. */
export declare function wasmImatrixNames(module: WasmModule): Set<string>;
/** A compiled WebAssembly.Module (the project's tsconfig has no DOM lib to name the type). */
export type WasmModule = object;
export declare class WasmKernels {
  constructor(module: WasmModule);
  /** wasmKernelNames(module). */
  readonly names: Set<string>;
  /** wasmImatrixNames(module). */
  readonly imatrixNames: Set<string>;
  /** With `check`, returns the index (from srcOff) of the first NaN/±Inf input, else -1. */
  quantize(t: WasmType, src: Float32Array, srcOff: number, n: number, dst: Uint8Array, dstOff: number, check?: boolean): number;
  /**
   * Whole rows of `nPerRow` values with importance weights `imatrix[0..nPerRow)`; `n` is a
   * multiple of nPerRow. `check` as for quantize.
   */
  quantizeImatrix(t: WasmType, src: Float32Array, srcOff: number, n: number, dst: Uint8Array, dstOff: number, imatrix: Float32Array, nPerRow: number, check?: boolean): number;
  dequantize(t: WasmType, src: Uint8Array, srcOff: number, n: number, dst: Float32Array, dstOff: number): void;
}
