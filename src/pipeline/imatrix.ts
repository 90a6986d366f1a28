/**
 * `gguf-forge imatrix MODEL -o FILE`: plan (model, text, chunks), compute (imatrix-compute.ts),
 * then write llama.cpp's imatrix GGUF, or the legacy `.dat` file when FILE ends in `.dat` (as
 * llama-imatrix's `--output-format dat`), through a temporary file renamed at the end.
 */
import { stat } from 'node:fs/promises';
import { writeImatrixDat, writeImatrixGguf } from '../../formats/imatrix/write-imatrix.ts';
import { computeImatrix, type ImatrixComputeOptions } from './imatrix-compute.ts';
import type { PipelineEvent } from './events.ts';

export interface ImatrixJobOptions extends ImatrixComputeOptions {
  model: string;
  output: string;
  force?: boolean;
}

export interface ImatrixSummary {
  kind: 'imatrix';
  output: string;
  outputBytes: number;
  format: 'gguf' | 'dat';
  model: string;
  entries: number;
  chunks: number;
  chunkSize: number;
  datasets: string[];
  tokens: number;
  seqPerPass: number;
  engine: string;
  seconds: number;
  tokensPerSecond: number;
}

export const isDatPath = (p: string) => p.toLowerCase().endsWith('.dat');

export async function* imatrixJob(opts: ImatrixJobOptions): AsyncGenerator<PipelineEvent, ImatrixSummary> {
  const started = performance.now();
  const r = yield* computeImatrix(opts);
  const format = isDatPath(opts.output) ? 'dat' : 'gguf';
  yield { type: 'phase', phase: 'write', message: `writing ${opts.output} (${r.imatrix.entries.size} entries, ${format})` };
  if (format === 'dat') await writeImatrixDat(opts.output, r.imatrix, { force: opts.force });
  else await writeImatrixGguf(opts.output, r.imatrix, { force: opts.force });
  const summary: ImatrixSummary = {
    kind: 'imatrix', output: opts.output, outputBytes: (await stat(opts.output)).size, format, model: opts.model,
    entries: r.imatrix.entries.size, chunks: r.imatrix.chunkCount, chunkSize: r.ctx, datasets: r.imatrix.datasets,
    tokens: r.tokens, seqPerPass: r.seqPerPass, engine: r.engine, seconds: (performance.now() - started) / 1000, tokensPerSecond: r.tokensPerSecond,
  };
  return summary;
}
