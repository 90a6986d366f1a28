/**
 * Runs batch jobs with at most `concurrency` in flight, as one async generator of events: each
 * job's pipeline events tagged with its id, plus `job` events when a job starts, ends, fails, is
 * skipped or cancelled. A failing job does not stop the others unless `failFast`; `skipExisting`
 * skips jobs whose completion marker says they are done (see completion.ts).
 */
import { mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fromFsError } from '../../formats/errors.ts';
import { CancelledError, ForgeError, TerminatedError } from '../../formats/errors.ts';
import { drainWhile } from '../hub/event-queue.ts';
import { exitCodeFor, EXIT_CODES } from '../cli/exit-codes.ts';
import type { JobSummary, PipelineEvent } from '../pipeline/events.ts';
import type { EvalFigures } from '../pipeline/eval-figures.ts';
import { isComplete, outputExists, writeCompletion, reportPathFor } from './completion.ts';
import { jobPipeline } from './run-job.ts';
import { drain } from '../pipeline/drain.ts';
import type { BatchJob } from './jobs.ts';
import type { Imatrix } from '../../formats/imatrix/imatrix.ts';

export type JobStatus = 'done' | 'failed' | 'skipped' | 'cancelled';

export interface JobError {
  kind: string;
  code: string;
  message: string;
  /** Internal errors (bugs) only. */
  stack?: string;
}

export interface JobOutcome {
  id: number;
  source: string;
  type: string;
  output: string;
  status: JobStatus;
  seconds: number;
  outputBytes?: number;
  /** Perplexity / KL of the output against its source, for jobs with `eval: true`. */
  eval?: EvalFigures;
  error?: JobError;
}

export interface JobRef {
  id: number;
  source: string;
  type: string;
  output: string;
}

export type BatchEvent =
  | { type: 'job'; state: 'start'; job: JobRef }
  | { type: 'job'; state: JobStatus; job: JobRef; outcome: JobOutcome }
  | (PipelineEvent & { job: number });

export interface BatchResult {
  jobs: JobOutcome[];
  counts: Record<JobStatus, number>;
  seconds: number;
  /** The exit code the batch command ends with: 0, or the first failed job's (by id), or 130 when cancelled. */
  exitCode: number;
}

export interface BatchOptions {
  concurrency?: number;
  skipExisting?: boolean;
  failFast?: boolean;
  /** Overwrite existing outputs. */
  force?: boolean;
  /** Worker threads per job; default the cores shared out over the concurrent jobs. */
  threads?: number;
  signal?: AbortSignal;
}

const ref = (j: BatchJob): JobRef => ({ id: j.id, source: j.source, type: j.type, output: j.output });

export async function* runBatch(jobs: readonly BatchJob[], opts: BatchOptions = {}): AsyncGenerator<BatchEvent, BatchResult> {
  const started = performance.now();
  const concurrency = Math.max(1, Math.floor(opts.concurrency ?? 1));
  const threads = opts.threads ?? Math.max(1, Math.floor(availableParallelism() / concurrency));
  // One controller for the whole batch: the caller's signal (Ctrl-C) and --fail-fast both end it.
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) stop.abort();
  const outcomes = new Map<number, JobOutcome>();
  const imatrices = new Map<string, Imatrix>();

  const runOne = async (job: BatchJob, emit: (e: BatchEvent) => void): Promise<void> => {
    const t0 = performance.now();
    const finish = (status: JobStatus, extra: Partial<JobOutcome> = {}) => {
      const outcome: JobOutcome = { ...ref(job), status, seconds: (performance.now() - t0) / 1000, ...extra };
      outcomes.set(job.id, outcome);
      emit({ type: 'job', state: status, job: ref(job), outcome });
    };
    if (stop.signal.aborted) return finish('cancelled');
    if (opts.skipExisting && (await isComplete(job.output))) return finish('skipped');
    emit({ type: 'job', state: 'start', job: ref(job) });
    // Under --skip-existing an output without a complete marker is a leftover, so it is redone.
    const force = !!opts.force || (!!opts.skipExisting && (await outputExists(job.output)));
    try {
      // Output patterns may name folders (`out/{name}-{type}.gguf`): create them.
      await mkdir(path.dirname(job.output), { recursive: true }).catch((err) => { throw fromFsError(err, path.dirname(job.output), 'create output folder'); });
      const summary: JobSummary = await drain(jobPipeline(job, { threads, force, signal: stop.signal, imatrices }), (ev) => emit({ ...ev, job: job.id }));
      await writeCompletion(job.output, { job: { ...ref(job), options: job.options }, ...summary });
      finish('done', { outputBytes: summary.outputBytes, ...(summary.eval ? { eval: summary.eval } : {}) });
    } catch (err) {
      if (err instanceof CancelledError || (stop.signal.aborted && !(err instanceof ForgeError))) return finish('cancelled');
      const error: JobError = err instanceof ForgeError
        ? { kind: err.kind, code: err.code, message: err.message }
        : { kind: 'internal', code: 'INTERNAL', message: `internal error: ${String((err as Error)?.message ?? err)}`, stack: String((err as Error)?.stack ?? '') };
      finish('failed', { error });
      if (opts.failFast) stop.abort();
    }
  };

  try {
    yield* drainWhile<BatchEvent>(async (emit) => {
      let next = 0;
      const worker = async () => {
        while (next < jobs.length) await runOne(jobs[next++]!, emit);
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, worker));
    });
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }

  const list = jobs.map((j) => outcomes.get(j.id)!);
  const counts: Record<JobStatus, number> = { done: 0, failed: 0, skipped: 0, cancelled: 0 };
  for (const o of list) counts[o.status]++;
  const firstFailure = list.find((o) => o.status === 'failed');
  const exitCode = opts.signal?.aborted ? (opts.signal.reason instanceof TerminatedError ? EXIT_CODES.terminated : EXIT_CODES.cancelled)
    : firstFailure ? exitCodeFor(firstFailure.error!.kind as Parameters<typeof exitCodeFor>[0])
    : EXIT_CODES.success;
  return { jobs: list, counts, seconds: (performance.now() - started) / 1000, exitCode };
}

export { reportPathFor };
