#!/usr/bin/env node
// The installed `gguf-forge` command (package.json "bin" → dist/src/cli/bin.js, compiled by
// `npm run build`). The only module that runs the CLI when imported: main.ts stays importable.
import { main } from './main.ts';

process.exitCode = await main(process.argv.slice(2));
