/**
 * Builds kernels/wasm/build/forge.wasm from the AssemblyScript sources with the installed
 * `assemblyscript` compiler (no network, no prebuilt binaries). Run by `npm run build` and by
 * `postinstall`, so a fresh `npm ci` produces it.
 */
import asc from 'assemblyscript/asc';
import { fileURLToPath } from 'node:url';
import { dirname, join, relative } from 'node:path';
import { mkdirSync } from 'node:fs';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, 'build');
mkdirSync(outDir, { recursive: true });

const args = [
  join(here, 'assembly', 'index.ts'),
  '--outFile', join(outDir, 'forge.wasm'),
  '--enable', 'simd',
  '--runtime', 'stub',
  '--noAssert',
  '--optimizeLevel', '3',
  '--shrinkLevel', '0',
  '--initialMemory', '1',
  '--exportRuntime',
].map((a) => (a.startsWith('/') ? relative(process.cwd(), a) : a));

const { error, stderr } = await asc.main(args, {});
if (error) {
  process.stderr.write(`${stderr.toString()}\nwasm build failed: ${error.message}\n`);
  process.exit(1);
}
process.stdout.write(`built ${relative(process.cwd(), join(outDir, 'forge.wasm'))}\n`);
