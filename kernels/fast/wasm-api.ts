/**
 * The few WebAssembly JS API members we use, typed locally: the project's tsconfig has no DOM lib
 * and @types/node 20 does not declare the `WebAssembly` global.
 */
export interface WasmMemory { readonly buffer: ArrayBuffer; grow(pages: number): number }
export type WasmModule = object;
export interface WasmInstance { readonly exports: Record<string, unknown> }
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => WasmInstance;
}

export const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
