/**
 * Whole-process timing for the benchmarks: wall time from spawn to exit, as a user's shell or
 * script sees it (node start-up, module loading, the work, exit), and the process's CPU time
 * (user + sys), which a loaded machine inflates far less than wall time. Runs are interleaved
 * across the compared commands (A B C, A B C, …) so load on a shared machine hits every side
 * alike; the median of each is reported.
 *
 * Both times come from bash's `time` keyword (wait4's rusage of the child alone, millisecond
 * resolution); without bash, wall time is taken around the spawn and CPU time is NaN.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/src/cli/bin.js', import.meta.url));
export const LLAMA_QUANTIZE = fileURLToPath(new URL('./llama-quantize.mjs', import.meta.url));

export interface ProcessCase {
  label: string;
  args: string[];
  /** Runs before each timed run (e.g. delete the output), not timed. */
  before?: () => void;
}

export interface ProcessTime {
  wall: number;
  /** user + sys seconds of the process (NaN without bash). */
  cpu: number;
}

const BASH = ['/bin/bash', '/usr/bin/bash'].find((p) => existsSync(p));
// The timing line is the last line of stderr, after a newline of its own (the child's stderr may not end with one).
const TIMED = 'TIMEFORMAT=$\'\\n\'"%3R %3U %3S"; time "$@"';

export function measureOnce(c: ProcessCase): ProcessTime {
  c.before?.();
  const opts = { encoding: 'utf8' as const, stdio: ['ignore', 'ignore', 'pipe'] as ('ignore' | 'pipe')[], env: { ...process.env, CI: 'true' }, maxBuffer: 64 << 20 };
  const t0 = process.hrtime.bigint();
  const r = BASH ? spawnSync(BASH, ['-c', TIMED, 'time', process.execPath, ...c.args], opts) : spawnSync(process.execPath, c.args, opts);
  const outside = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${c.label}: exit ${r.status}: ${r.stderr.slice(-1500)}`);
  if (!BASH) return { wall: outside, cpu: NaN };
  const [real, user, sys] = r.stderr.trimEnd().split('\n').pop()!.split(' ').map(Number) as [number, number, number];
  return { wall: real, cpu: user + sys };
}

/** Wall seconds of one run. */
export function timeOnce(c: ProcessCase): number {
  return measureOnce(c).wall;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export interface ProcessTimes {
  /** Median wall seconds, and every run's. */
  median: number;
  runs: number[];
  /** Median CPU seconds (user + sys), and every run's. */
  cpuMedian: number;
  cpuRuns: number[];
}

/** Each case over `runs` interleaved rounds (after one untimed warm-up round). */
export function timeInterleaved(cases: ProcessCase[], runs: number): Map<string, ProcessTimes> {
  for (const c of cases) measureOnce(c);
  const all = new Map(cases.map((c) => [c.label, [] as ProcessTime[]]));
  for (let r = 0; r < runs; r++) for (const c of cases) all.get(c.label)!.push(measureOnce(c));
  return new Map([...all].map(([k, v]) => {
    const wall = v.map((t) => t.wall), cpu = v.map((t) => t.cpu);
    return [k, { median: median(wall), runs: wall, cpuMedian: median(cpu), cpuRuns: cpu }];
  }));
}
