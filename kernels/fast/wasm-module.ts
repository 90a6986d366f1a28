/**
 * Locates and compiles the WebAssembly SIMD kernels built from kernels/wasm/assembly by
 * `npm run build` (kernels/wasm/build.ts). A compiled WebAssembly.Module can be posted to workers,
 * so it is compiled once per process.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { WasmModule } from './wasm-kernels.mjs';

/** The one WebAssembly API member used here (no DOM lib in this project's tsconfig). */
const Wasm = (globalThis as unknown as { WebAssembly: { Module: new (bytes: Uint8Array) => WasmModule } }).WebAssembly;

export const WASM_PATH = fileURLToPath(new URL('../wasm/build/forge.wasm', import.meta.url));
const SOURCE_DIR = fileURLToPath(new URL('../wasm/assembly/', import.meta.url));

/** A source edited (or pulled) after the last build would silently run old kernels: refuse. */
function assertFresh(wasmPath: string): void {
  const built = statSync(wasmPath).mtimeMs;
  let sources: string[];
  try {
    sources = readdirSync(SOURCE_DIR).filter((f) => f.endsWith('.ts'));
  } catch {
    return; // sources not shipped: nothing to compare with
  }
  const newer = sources.find((f) => statSync(SOURCE_DIR + f).mtimeMs > built);
  if (newer) throw new Error(`WebAssembly kernels at ${wasmPath} are older than kernels/wasm/assembly/${newer}; run \`npm run build\` to rebuild them`);
}

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
  if (path === WASM_PATH) assertFresh(path);
  const module = new Wasm.Module(bytes);
  compiled.set(path, module);
  return module;
}
