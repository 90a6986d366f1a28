/**
 * Locates and compiles the WebAssembly SIMD kernels built from kernels/wasm/assembly by
 * `npm run build` (kernels/wasm/build.ts). A compiled WebAssembly.Module can be posted to workers,
 * so it is compiled once per process.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Wasm, type WasmModule } from './wasm-api.ts';

export const WASM_PATH = fileURLToPath(new URL('../wasm/build/forge.wasm', import.meta.url));

let compiled: WasmModule | undefined;

/** Throws a clear error if the build has not been run. */
export function loadWasmModule(): WasmModule {
  if (compiled) return compiled;
  let bytes: Buffer;
  try {
    bytes = readFileSync(WASM_PATH);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`WebAssembly kernels not found at ${WASM_PATH} (${code ?? e}); run \`npm run build\` to compile them`);
  }
  compiled = new Wasm.Module(bytes);
  return compiled;
}
