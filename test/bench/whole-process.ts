/**
 * Whole-process timing for the benchmarks: wall time from spawn to exit, as a user's shell or
 * script sees it (node start-up, module loading, the work, exit). Runs are interleaved across the
 * compared commands (A B C, A B C, …) so load on a shared machine hits every side alike; the
 * median of each is reported.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/src/cli/bin.js', import.meta.url));
export const LLAMA_QUANTIZE = fileURLToPath(new URL('./llama-quantize.mjs', import.meta.url));

export interface ProcessCase {
  label: string;
  args: string[];
  /** Runs before each timed run (e.g. delete the output), not timed. */
  before?: () => void;
}

export function timeOnce(c: ProcessCase): number {
  c.before?.();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, c.args, { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, CI: 'true' }, maxBuffer: 64 << 20 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${c.label}: exit ${r.status}: ${r.stderr.slice(-1500)}`);
  return seconds;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Median wall seconds of each case over `runs` interleaved rounds (after one untimed warm-up round). */
export function timeInterleaved(cases: ProcessCase[], runs: number): Map<string, { median: number; runs: number[] }> {
  for (const c of cases) timeOnce(c);
  const all = new Map(cases.map((c) => [c.label, [] as number[]]));
  for (let r = 0; r < runs; r++) for (const c of cases) all.get(c.label)!.push(timeOnce(c));
  return new Map([...all].map(([k, v]) => [k, { median: median(v), runs: v }]));
}
