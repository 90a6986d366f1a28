// `npm run build:js`: compiles src/, formats/ and kernels/ into dist/ with tsc (imports rewritten
// from .ts to .js), rewrites that output as CommonJS for start-up time (dist-to-cjs.mjs), then copies what the compiled code reads at run time: the wasm kernels
// (built first by `npm run build:wasm`) and the bundled sample model the TUI offers. Plain JS so
// it runs with node alone.
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { distToCjs } from './dist-to-cjs.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const wasm = join(root, 'kernels/wasm/build/forge.wasm');
const SAMPLE_FILES = ['README.md', 'config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer.model', 'tokenizer_config.json'];

if (!existsSync(wasm)) {
  process.stderr.write(`build-dist: ${wasm} is missing; run \`npm run build:wasm\` first\n`);
  process.exit(1);
}
rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
distToCjs(dist);
mkdirSync(join(dist, 'kernels/wasm/build'), { recursive: true });
cpSync(wasm, join(dist, 'kernels/wasm/build/forge.wasm'));
const sample = join(root, 'samples/stories260K');
for (const f of SAMPLE_FILES) cpSync(join(sample, f), join(dist, 'samples/stories260K', f));
process.stdout.write('built dist/\n');
