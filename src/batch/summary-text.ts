/**
 * Human text for a batch: one line per job event (stderr) and the summary table (stdout).
 */
import path from 'node:path';
import { formatBytes } from '../format-units.ts';
import type { BatchEvent, BatchResult, JobOutcome } from './run-batch.ts';
import type { BatchJob } from './jobs.ts';

const rel = (p: string) => {
  const r = path.relative(process.cwd(), p);
  return r && !r.startsWith('..') ? r : p;
};

/** A progress line for a job event, or null for the pipeline's own events (too chatty for a batch). */
export function jobEventLine(ev: BatchEvent): string | null {
  // Pipeline events (tensors, fallback warnings) are in --jsonl and the job's report.json.
  if (ev.type !== 'job') return null;
  const what = `job ${ev.job.id} ${rel(ev.job.source)} → ${ev.job.type}`;
  if (ev.state === 'start') return `${what}: started`;
  const o = ev.outcome;
  if (o.status === 'done') return `${what}: done in ${o.seconds.toFixed(1)} s → ${rel(o.output)}`;
  if (o.status === 'failed') return `${what}: FAILED: ${o.error?.message}`;
  if (o.status === 'skipped') return `${what}: skipped (complete: ${rel(o.output)})`;
  return `${what}: cancelled`;
}

export function formatBatchTable(result: BatchResult): string {
  const rows = result.jobs.map((o) => [String(o.id), rel(o.source), o.type, statusText(o), o.outputBytes !== undefined ? formatBytes(o.outputBytes) : '', o.status === 'skipped' || o.status === 'cancelled' ? '' : `${o.seconds.toFixed(1)} s`, rel(o.output)]);
  const head = ['#', 'source', 'type', 'status', 'size', 'time', 'output'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const c = result.counts;
  const out = [line(head), ...rows.map(line), `${result.jobs.length} jobs: ${c.done} done, ${c.failed} failed, ${c.skipped} skipped, ${c.cancelled} cancelled in ${result.seconds.toFixed(1)} s`];
  for (const o of result.jobs.filter((j) => j.error)) out.push(`job ${o.id}: ${o.error!.message}`);
  return out.join('\n');
}

function statusText(o: JobOutcome): string {
  return o.status === 'failed' ? `failed (${o.error?.kind})` : o.status;
}

export function formatJobList(jobs: readonly BatchJob[]): string {
  return jobs.map((j) => `${j.id}\t${rel(j.source)}\t${j.type}\t${rel(j.output)}`).join('\n');
}
