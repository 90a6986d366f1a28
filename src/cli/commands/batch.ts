/**
 * `gguf-forge batch JOBS.yaml`: many conversions from one file (sources × types), with
 * concurrency, resume (`--skip-existing`), sharding across machines (`--shard i/n`), a summary
 * table and a JSON report. Job failures are reported, not thrown: the exit code is the first
 * failed job's (see runBatch).
 */
import { writeFileAtomic } from '../../../formats/io/atomic-file.ts';
import type { Command } from 'commander';
import { UsageError, fromFsError } from '../../../formats/errors.ts';
import { readBatchFile } from '../../batch/spec.ts';
import { expandJobs, parseShard, shardJobs } from '../../batch/jobs.ts';
import { runBatch, type BatchResult } from '../../batch/run-batch.ts';
import { formatBatchTable, formatJobList, jobEventLine } from '../../batch/summary-text.ts';
import { withSigintAbort } from '../sigint.ts';
import { BatchProgressLine } from '../../batch/progress-line.ts';

interface BatchFlags {
  concurrency: string;
  skipExisting?: boolean;
  shard?: string;
  report?: string;
  failFast?: boolean;
  force?: boolean;
  threads?: string;
  dryRun?: boolean;
  json?: boolean;
  jsonl?: boolean;
}

const positiveInt = (s: string | undefined, flag: string): number | undefined => {
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new UsageError('BAD_FLAGS', `${flag} must be a positive integer, got '${s}'`);
  return n;
};

export function register(program: Command): void {
  program
    .command('batch')
    .description('run many conversions from a YAML or JSON jobs file (sources × types, output name patterns)')
    .argument('<jobs-file>', 'YAML or JSON batch file')
    .option('--concurrency <n>', 'jobs run at the same time', '1')
    .option('--skip-existing', 'skip jobs whose <output>.report.json says complete (resume an interrupted batch)')
    .option('--shard <i/n>', 'run only slice i of n (job k goes to shard (k-1) mod n + 1)')
    .option('--report <file>', 'write the batch report (every job, status, error) as JSON')
    .option('--fail-fast', 'stop at the first failing job')
    .option('--force', 'overwrite existing outputs')
    .option('--threads <n>', 'worker threads per job (default: cores / concurrency)')
    .option('--dry-run', 'list the jobs (of this shard) and run nothing')
    .option('--json', 'print one JSON document at the end on stdout')
    .option('--jsonl', 'print every event as a JSON line on stdout')
    .action(async (file: string, flags: BatchFlags) => {
      if (flags.json && flags.jsonl) throw new UsageError('BAD_FLAGS', '--json and --jsonl are mutually exclusive');
      const concurrency = positiveInt(flags.concurrency, '--concurrency')!;
      const threads = positiveInt(flags.threads, '--threads');
      const all = expandJobs(await readBatchFile(file));
      const shard = flags.shard ? parseShard(flags.shard) : undefined;
      const jobs = shard ? shardJobs(all, shard) : all;
      if (flags.dryRun) {
        const doc = jobs.map((j) => ({ id: j.id, kind: j.kind, source: j.source, type: j.type, output: j.output, options: j.options }));
        process.stdout.write(flags.json || flags.jsonl ? JSON.stringify(flags.json ? { ok: true, result: { jobs: doc } } : { jobs: doc }) + '\n' : formatJobList(jobs) + '\n');
        return;
      }
      const result = await withSigintAbort(async (signal) => {
        const gen = runBatch(jobs, { concurrency, skipExisting: flags.skipExisting, failFast: flags.failFast, force: flags.force, threads, signal });
        const live = new BatchProgressLine(process.stderr);
        try {
          let step = await gen.next();
          while (!step.done) {
            if (flags.jsonl) process.stdout.write(JSON.stringify(step.value) + '\n');
            else if (!flags.json) live.update(step.value, jobEventLine(step.value));
            step = await gen.next();
          }
          return step.value;
        } finally {
          live.clear();
        }
      });
      const doc = { ...result, file, ...(shard ? { shard } : {}), totalJobs: all.length };
      if (flags.report) await writeReport(flags.report, doc);
      if (flags.jsonl) process.stdout.write(JSON.stringify({ type: 'batch', result: doc }) + '\n');
      else if (flags.json) process.stdout.write(JSON.stringify({ ok: result.exitCode === 0, result: doc }, null, 2) + '\n');
      else process.stdout.write(formatBatchTable(result) + '\n');
      process.exitCode = result.exitCode;
    });
}

async function writeReport(path: string, doc: BatchResult & Record<string, unknown>): Promise<void> {
  try {
    await writeFileAtomic(path, JSON.stringify(doc, null, 2) + '\n'); // never a truncated report
  } catch (err) {
    throw fromFsError(err, path, 'write batch report');
  }
}
