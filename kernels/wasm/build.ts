/**
 * Builds kernels/wasm/build/forge.wasm from the AssemblyScript sources with the installed
 * `assemblyscript` compiler (no network, no prebuilt binaries). Run by `npm run build` and by
 * `postinstall`, so a fresh `npm ci` produces it.
 */
import asc from 'assemblyscript/asc';
import { fileURLToPath } from 'node:url';
import { dirname, join, relative } from 'node:path';
import { mkdirSync, readdirSync, statSync } from 'node:fs';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, 'build');
mkdirSync(outDir, { recursive: true });

// `npm test` builds before every run: skip the compiler when the wasm is newer than every source.
const wasmPath = join(outDir, 'forge.wasm');
const builtAt = statSync(wasmPath, { throwIfNoEntry: false })?.mtimeMs ?? 0;
const sourceDir = join(here, 'assembly');
const newest = Math.max(statSync(fileURLToPath(import.meta.url)).mtimeMs, ...readdirSync(sourceDir).map((f) => statSync(join(sourceDir, f)).mtimeMs));
if (builtAt > newest && !process.argv.includes('--force')) {
  process.stdout.write(`${relative(process.cwd(), wasmPath)} is up to date\n`);
  process.exit(0);
}

const args = [
  join(here, 'assembly', 'index.ts'),
  '--outFile', join(outDir, 'forge.wasm'),
  '--enable', 'simd',
  '--runtime', 'stub',
  '--noAssert',
  '--optimizeLevel', '3',
  '--shrinkLevel', '0',
  // No --initialMemory: the static data (the IQ2/IQ1 init tables, reserved with memory.data) sets
  // the initial size; the host grows memory above heapBase() itself.
  '--exportRuntime',
].map((a) => (a.startsWith('/') ? relative(process.cwd(), a) : a));

const { error, stderr } = await asc.main(args, {});
if (error) {
  process.stderr.write(`${stderr.toString()}\nwasm build failed: ${error.message}\n`);
  process.exit(1);
}
process.stdout.write(`built ${relative(process.cwd(), join(outDir, 'forge.wasm'))}\n`);
