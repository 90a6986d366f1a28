/**
 * `gguf-forge imatrix [MODEL] [--in-file F]… -o FILE`: read the `--in-file`s (GGUF or `.dat`),
 * compute on top of them when a MODEL is given (imatrix-compute.ts), or only combine them
 * (merge-imatrix.ts) when not, as llama-imatrix does without a prompt; then write llama.cpp's
 * imatrix GGUF, or the legacy `.dat` file when FILE ends in `.dat` (as llama-imatrix's
 * `--output-format dat`), through a temporary file renamed at the end.
 */
import { stat } from 'node:fs/promises';
import { UsageError } from '../../formats/errors.ts';
import type { Imatrix } from '../../formats/imatrix/imatrix.ts';
import { mergeChunkSize, mergeImatrices, type ImatrixInput } from '../../formats/imatrix/merge-imatrix.ts';
import { readImatrix } from '../../formats/imatrix/read-imatrix.ts';
import { writeImatrixDat, writeImatrixGguf } from '../../formats/imatrix/write-imatrix.ts';
import { computeImatrix, type ImatrixComputeOptions } from './imatrix-compute.ts';
import type { PipelineEvent } from './events.ts';
import { parseHubSource } from '../hub/source.ts';
import { resolveSource, type ResolveOptions } from '../hub/resolve-source.ts';

export interface ImatrixJobOptions extends Omit<ImatrixComputeOptions, 'model' | 'inFiles'> {
  /** Without a model, the `inFiles` are only combined. An `hf:` repo is pulled into the Hub cache first. */
  model?: string;
  /** Hub options for an `hf:` model (token, offline). */
  hub?: ResolveOptions;
  /** `--in-file`s, in order. */
  inFiles?: string[];
  output: string;
  force?: boolean;
}

export interface ImatrixSummary {
  kind: 'imatrix';
  output: string;
  outputBytes: number;
  format: 'gguf' | 'dat';
  /** Absent when the files were only combined. */
  model?: string;
  inFiles: string[];
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
  const inFiles = opts.inFiles ?? [];
  if (!opts.model && inFiles.length === 0) {
    // llama-imatrix: "No prompt provided and no precomputed matrices (--in-file) to combine."
    throw new UsageError('NOTHING_TO_DO', 'give a MODEL to compute an imatrix, or --in-file FILE (repeatable) to combine existing ones');
  }
  const loaded = yield* loadImatrixFiles(inFiles);
  let imatrix: Imatrix;
  let run: Pick<ImatrixSummary, 'tokens' | 'seqPerPass' | 'engine' | 'tokensPerSecond'> = { tokens: 0, seqPerPass: 0, engine: 'none', tokensPerSecond: 0 };
  if (opts.model) {
    // The forward needs every weight: an hf: model is pulled whole (resumable, with download events).
    const model = parseHubSource(opts.model) ? (yield* resolveSource(opts.model, { ...opts.hub, signal: opts.signal })).dir : opts.model;
    const r = yield* computeImatrix({ ...opts, model, inFiles: loaded });
    imatrix = r.imatrix;
    run = { tokens: r.tokens, seqPerPass: r.seqPerPass, engine: r.engine, tokensPerSecond: r.tokensPerSecond };
  } else {
    const merged = mergeImatrices(loaded, mergeChunkSize(loaded, opts.ctx));
    imatrix = { entries: merged.entries, datasets: merged.datasets, chunkCount: merged.chunkCount, chunkSize: merged.chunkSize, legacy: false };
    yield { type: 'phase', phase: 'imatrix', message: `combined ${inFiles.length} file(s): ${imatrix.entries.size} entries, ${imatrix.chunkCount} chunks of ${imatrix.chunkSize} tokens` };
  }
  const format = isDatPath(opts.output) ? 'dat' : 'gguf';
  yield { type: 'phase', phase: 'write', message: `writing ${opts.output} (${imatrix.entries.size} entries, ${format})` };
  if (format === 'dat') await writeImatrixDat(opts.output, imatrix, { force: opts.force });
  else await writeImatrixGguf(opts.output, imatrix, { force: opts.force });
  const summary: ImatrixSummary = {
    kind: 'imatrix', output: opts.output, outputBytes: (await stat(opts.output)).size, format, ...(opts.model ? { model: opts.model } : {}), inFiles,
    entries: imatrix.entries.size, chunks: imatrix.chunkCount, chunkSize: imatrix.chunkSize, datasets: imatrix.datasets,
    ...run, seconds: (performance.now() - started) / 1000,
  };
  return summary;
}

/** Reads every `--in-file` (GGUF or `.dat`, mixed), in order. */
export async function* loadImatrixFiles(files: string[]): AsyncGenerator<PipelineEvent, ImatrixInput[]> {
  const out: ImatrixInput[] = [];
  for (const file of files) {
    yield { type: 'phase', phase: 'imatrix', message: `loading imatrix from ${file}` };
    out.push({ file, imatrix: await readImatrix(file) });
  }
  return out;
}
