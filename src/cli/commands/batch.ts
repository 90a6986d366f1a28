/**
 * `gguf-forge batch JOBS.yaml`: many conversions from one file (sources × types), with
 * concurrency, resume (`--skip-existing`), sharding across machines (`--shard i/n`), a summary
 * table and a JSON report. Job failures are reported, not thrown: the exit code is the first
 * failed job's (see runBatch). Runs through the headless consumer like every command, so
 * `--json` prints `{ok, result | error, warnings}` and `--jsonl` ends with a done or error line.
 */
import { writeFileAtomic } from '../../../formats/io/atomic-file.ts';
import { Option, type Command } from 'commander';
import { fromFsError } from '../../../formats/errors.ts';
import type { BatchEvent, BatchResult } from '../../batch/run-batch.ts';
import type { BatchJob } from '../../batch/jobs.ts';
import { addOutputModes, forceOption, parser, threadsOption, type OutputModeFlags } from '../options.ts';
import { positiveInteger } from '../../options/values.ts';
import { runCommand } from '../run-command.ts';
import { assertInputExists } from '../preflight.ts';

interface BatchFlags extends OutputModeFlags {
  concurrency: number;
  skipExisting?: boolean;
  shard?: string;
  report?: string;
  failFast?: boolean;
  force?: boolean;
  threads?: number;
  dryRun?: boolean;
}

type DryRun = { jobs: Pick<BatchJob, 'id' | 'kind' | 'source' | 'type' | 'output' | 'options'>[] };
type BatchDoc = BatchResult & { file: string; shard?: { index: number; count: number }; totalJobs: number };

export function register(program: Command): void {
  const cmd = program
    .command('batch')
    .description('run many conversions from a YAML or JSON jobs file (sources × types, output name patterns)')
    .argument('<jobs-file>', 'YAML or JSON batch file')
    .addOption(new Option('--concurrency <n>', 'jobs run at the same time').default(1).argParser(parser(positiveInteger)))
    .option('--skip-existing', 'skip jobs whose <output>.report.json says complete (resume an interrupted batch)')
    .option('--shard <i/n>', 'run only slice i of n (job k goes to shard (k-1) mod n + 1)')
    .option('--report <file>', 'write the batch report (every job, status, error) as JSON')
    .option('--fail-fast', 'stop at the first failing job')
    .addOption(forceOption())
    .addOption(threadsOption('worker threads per job (default: cores / concurrency)'))
    .option('--dry-run', 'list the jobs (of this shard) and run nothing');
  addOutputModes(cmd).action(async (file: string, flags: BatchFlags) => {
    const { BatchProgressLine } = await import('../../batch/progress-line.ts');
    const { formatBatchTable, formatJobList, jobEventLine } = await import('../../batch/summary-text.ts');
    const live = new BatchProgressLine(process.stderr);
    const result = await runCommand<BatchDoc | DryRun, BatchEvent>(flags, (signal) => batchJob(file, flags, signal), {
      humanEvent: (ev) => live.update(ev, jobEventLine(ev)),
      finish: () => live.clear(),
      ok: (r) => !('exitCode' in r) || r.exitCode === 0,
      formatResult: (r) => ('exitCode' in r ? formatBatchTable(r) : formatJobList(r.jobs as BatchJob[])),
    });
    if ('exitCode' in result) process.exitCode = result.exitCode;
  });
}

async function* batchJob(file: string, flags: BatchFlags, signal: AbortSignal): AsyncGenerator<BatchEvent, BatchDoc | DryRun> {
  await assertInputExists(file, 'batch file');
  const { readBatchFile } = await import('../../batch/spec.ts');
  const { expandJobs, parseShard, shardJobs } = await import('../../batch/jobs.ts');
  const all = expandJobs(await readBatchFile(file));
  const shard = flags.shard ? parseShard(flags.shard) : undefined;
  const jobs = shard ? shardJobs(all, shard) : all;
  if (flags.dryRun) return { jobs: jobs.map((j) => ({ id: j.id, kind: j.kind, source: j.source, type: j.type, output: j.output, options: j.options })) };
  const { runBatch } = await import('../../batch/run-batch.ts');
  const result = yield* runBatch(jobs, { concurrency: flags.concurrency, skipExisting: flags.skipExisting, failFast: flags.failFast, force: flags.force, threads: flags.threads, signal });
  const doc: BatchDoc = { ...result, file, ...(shard ? { shard } : {}), totalJobs: all.length };
  if (flags.report) await writeReport(flags.report, doc);
  return doc;
}

async function writeReport(path: string, doc: BatchDoc): Promise<void> {
  try {
    await writeFileAtomic(path, JSON.stringify(doc, null, 2) + '\n'); // never a truncated report
  } catch (err) {
    throw fromFsError(err, path, 'write batch report');
  }
}
