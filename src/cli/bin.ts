#!/usr/bin/env node
// The installed `gguf-forge` command (package.json "bin" → dist/src/cli/bin.js, compiled by
// `npm run build`). The only module that runs the CLI when imported: main.ts stays importable.
// A command line that will quantize boots its worker pool first (early-pool.ts), then the CLI
// loads. No top-level await: the build emits CommonJS (scripts/dist-to-cjs.mjs).
import { earlyPoolThreads } from './early-pool.ts';

const argv = process.argv.slice(2);
const threads = earlyPoolThreads(argv);
if (threads !== undefined) void import('../../kernels/fast/prestart.ts').then((m) => m.prestartPool(threads)).catch(() => undefined);
void import('./main.ts').then(({ main }) => main(argv)).then((code) => {
  process.exitCode = code;
});
