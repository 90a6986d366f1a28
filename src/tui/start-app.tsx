/**
 * Starts the TUI on the real terminal with the real dependencies (Hub search, HF cache,
 * convert pipeline, GGUF inspector) and resolves when the user quits. Loaded by run-tui.tsx,
 * after it has chosen React's production build.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import React from 'react';
import { render } from 'ink';
import { App, type TuiDeps } from './app.tsx';
import { listModels } from '../hub/search.ts';
import { convertModel } from '../pipeline/convert.ts';
import { convertAwqGptq } from '../pipeline/awq-gptq.ts';
import { quantizeAsConvert } from './data/quantize-job.ts';
import { listCachedModels } from './data/hf-cache.ts';
import { openInspector } from './data/inspector-data.ts';
import { loadHubSummary } from './data/hub-summary.ts';
import { installHeapLog } from './heap-log.ts';

export const SAMPLE_PATH = path.resolve(import.meta.dirname, '../../samples/stories260K');

export function defaultDeps(cwd = process.cwd()): TuiDeps {
  return {
    convert: convertModel,
    quantize: quantizeAsConvert,
    convertGroupwise: convertAwqGptq,
    search: (query, signal) => listModels({ query, limit: 20, signal }),
    cached: () => listCachedModels(),
    localGgufs: async () => (await readdir(cwd).catch(() => [] as string[])).filter((f) => f.toLowerCase().endsWith('.gguf')).sort(),
    openInspector: (target) => openInspector(target),
    hubSummary: (repo) => loadHubSummary(repo),
    samplePath: SAMPLE_PATH,
    cwd,
  };
}

export async function startApp(deps: TuiDeps = defaultDeps()): Promise<void> {
  const removeHeapLog = installHeapLog();
  const app = render(<App deps={deps} />, { exitOnCtrlC: false });
  try {
    await app.waitUntilExit();
  } finally {
    removeHeapLog();
  }
}
