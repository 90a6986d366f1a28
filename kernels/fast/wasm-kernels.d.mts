/** Types of wasm-kernels.mjs (plain JS so workers need no TypeScript loader). */
export declare const PIECE_ELEMS: number;
export interface WasmTypeInfo { readonly name: string; readonly blockSize: number; readonly typeSize: number }
export declare function wasmSupports(typeId: number): boolean;
export declare function wasmTypeInfo(typeId: number): WasmTypeInfo | undefined;
/** A compiled WebAssembly.Module (the project's tsconfig has no DOM lib to name the type). */
export type WasmModule = object;
export declare class WasmKernels {
  constructor(module: WasmModule);
  /** With `check`, returns the index (from srcOff) of the first NaN/±Inf input, else -1. */
  quantize(typeId: number, src: Float32Array, srcOff: number, n: number, dst: Uint8Array, dstOff: number, check?: boolean): number;
  dequantize(typeId: number, src: Uint8Array, srcOff: number, n: number, dst: Float32Array, dstOff: number): void;
}
