#!/usr/bin/env node
// The installed `gguf-forge` command (package.json "bin" → dist/src/cli/bin.js, compiled by
// `npm run build`). The only module that runs the CLI when imported: main.ts stays importable.
// No top-level await: the build emits CommonJS (scripts/dist-to-cjs.mjs).
import { main } from './main.ts';

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
