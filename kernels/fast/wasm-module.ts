/**
 * Locates and compiles the WebAssembly SIMD kernels built from kernels/wasm/assembly by
 * `npm run build` (kernels/wasm/build.ts). A compiled WebAssembly.Module can be posted to workers,
 * so it is compiled once per process.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { WasmModule } from './wasm-kernels.mjs';

/** The one WebAssembly API member used here (no DOM lib in this project's tsconfig). */
const Wasm = (globalThis as unknown as { WebAssembly: { Module: new (bytes: Uint8Array) => WasmModule } }).WebAssembly;

export const WASM_PATH = fileURLToPath(new URL('../wasm/build/forge.wasm', import.meta.url));

const compiled = new Map<string, WasmModule>();

/** Throws a clear error if the build has not been run. */
export function loadWasmModule(path: string = WASM_PATH): WasmModule {
  const cached = compiled.get(path);
  if (cached) return cached;
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`WebAssembly kernels not found at ${path} (${code ?? e}); run \`npm run build\` to compile them`);
  }
  const module = new Wasm.Module(bytes);
  compiled.set(path, module);
  return module;
}
