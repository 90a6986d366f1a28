/**
 * Drives a seeded fuzz run in a worker thread, so that a case which hangs (a synchronous loop
 * cannot be interrupted in-process) or exhausts the heap is recorded as a failure and the run
 * goes on in a fresh worker from the next case. Memory is watched from outside: the process RSS is
 * sampled while each case runs and a case that raises it by more than `rssLimitMb` fails.
 */
import { Worker } from 'node:worker_threads';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Outcome } from './fuzz-targets.ts';

export interface FuzzFailure { i: number; target: string; kind: string; detail: string }
export interface FuzzStats {
  seed: number;
  cases: number;
  ok: number;
  typed: number;
  /** Typed outcomes by `kind:code`. */
  codes: Record<string, number>;
  byTarget: Record<string, { cases: number; ok: number }>;
  failures: FuzzFailure[];
  seconds: number;
  /** Largest RSS rise over the baseline seen during any case (MiB). */
  maxRssRiseMb: number;
  slowestCaseMs: number;
}

export interface FuzzOptions {
  seed: number;
  cases: number;
  /** A case running longer than this is a hang (default 15 s: generous for a busy machine). */
  timeoutMs?: number;
  /** A case raising RSS this much over the run's baseline is a big allocation (default 512 MiB). */
  rssLimitMb?: number;
  /** JS heap limit of the worker (default 1024 MiB); exceeding it is a failure too. */
  heapLimitMb?: number;
  /** Start no case after this many seconds (the suite's run is bounded in time, not only in cases). */
  deadlineSeconds?: number;
  onProgress?: (done: number, stats: FuzzStats) => void;
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzStats> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const rssLimit = (opts.rssLimitMb ?? 512) * 2 ** 20;
  const started = performance.now();
  const stats: FuzzStats = { seed: opts.seed, cases: 0, ok: 0, typed: 0, codes: {}, byTarget: {}, failures: [], seconds: 0, maxRssRiseMb: 0, slowestCaseMs: 0 };
  const work = mkdtempSync(join(tmpdir(), 'gguf-forge-fuzz-'));
  const baseline = process.memoryUsage.rss();
  const record = (i: number, target: string, outcome: Outcome | { kind: 'hang' | 'oom' | 'big-allocation' | 'crash'; detail: string }) => {
    stats.cases++;
    const t = (stats.byTarget[target] ??= { cases: 0, ok: 0 });
    t.cases++;
    if (outcome.kind === 'ok') { stats.ok++; t.ok++; }
    else if (outcome.kind === 'typed') { stats.typed++; stats.codes[outcome.code] = (stats.codes[outcome.code] ?? 0) + 1; }
    else stats.failures.push({ i, target, kind: outcome.kind, detail: outcome.detail });
    opts.onProgress?.(stats.cases, stats);
  };
  try {
    let next = 0;
    while (next < opts.cases) {
      next = await runSlice(next);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  stats.seconds = (performance.now() - started) / 1000;
  return stats;

  /** Runs cases from `from` in one worker; returns where the next worker must start. */
  function runSlice(from: number): Promise<number> {
    return new Promise((resolve) => {
      const worker = new Worker(new URL('./fuzz-worker.mjs', import.meta.url), {
        workerData: { work, seed: opts.seed, from, to: opts.cases },
        resourceLimits: { maxOldGenerationSizeMb: opts.heapLimitMb ?? 1024 },
      });
      let current = from;
      let caseStart = performance.now();
      let finished = false;
      const finish = (nextFrom: number, failure?: { kind: 'hang' | 'oom' | 'big-allocation' | 'crash'; detail: string }) => {
        if (finished) return;
        finished = true;
        clearInterval(watch);
        if (failure) record(current, `case ${current}`, failure);
        void worker.terminate().then(() => resolve(nextFrom));
      };
      const watch = setInterval(() => {
        const rise = process.memoryUsage.rss() - baseline;
        stats.maxRssRiseMb = Math.max(stats.maxRssRiseMb, rise / 2 ** 20);
        if (rise > rssLimit) finish(current + 1, { kind: 'big-allocation', detail: `RSS rose ${(rise / 2 ** 20).toFixed(0)} MiB during case ${current}` });
        else if (performance.now() - caseStart > timeoutMs) finish(current + 1, { kind: 'hang', detail: `case ${current} ran over ${timeoutMs} ms` });
      }, 20);
      worker.on('message', (m: { type: string; i: number; target: string; outcome: Outcome }) => {
        if (m.type === 'start') {
          if (opts.deadlineSeconds !== undefined && performance.now() - started > opts.deadlineSeconds * 1000) return finish(opts.cases);
          current = m.i; caseStart = performance.now();
        }
        else if (m.type === 'case') {
          stats.slowestCaseMs = Math.max(stats.slowestCaseMs, performance.now() - caseStart);
          record(m.i, m.target, m.outcome);
          current = m.i + 1;
        } else if (m.type === 'end') finish(opts.cases);
      });
      worker.on('error', (err: Error & { code?: string }) => {
        const oom = err.code === 'ERR_WORKER_OUT_OF_MEMORY';
        finish(current + 1, { kind: oom ? 'oom' : 'crash', detail: `${err.name}: ${err.message}`.slice(0, 500) });
      });
      worker.on('exit', () => finish(current + 1, { kind: 'crash', detail: `worker exited during case ${current}` }));
    });
  }
}
