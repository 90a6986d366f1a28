/**
 * `npm run bench quantize-process`: GGUF → GGUF as whole processes, as a user or a script runs
 * it: `gguf-forge quantize IN OUT --type T` (compiled CLI, with and without validation) against a
 * node process that loads llama.cpp (koffi) and calls `llama_model_quantize` once
 * (test/bench/llama-quantize.mjs), same input, same thread count, interleaved rounds, medians.
 * Ratio = llama.cpp's seconds / ours (> 1: we are faster). The input is the 380 MB F32 Llama of
 * the in-process bench (n_embd 1024, n_ff 2816, 8 layers). Targets:
 *   q8_0, q4_0: ≥ 1.0× with --no-validate, ≥ 0.8× with validation; q5_K_M: ≥ 2.5× / ≥ 2.0×.
 *
 *   npm run bench quantize-process    (env BENCH_LAYERS=8 BENCH_THREADS=2 BENCH_RUNS=3 BENCH_TYPES=q8_0,q4_0,q5_K_M)
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, LLAMA_QUANTIZE, timeInterleaved } from './whole-process.ts';

const TARGETS: Record<string, [noValidate: number, validate: number]> = { q8_0: [1, 0.8], q4_0: [1, 0.8], q5_K_M: [2.5, 2] };

export default async function bench(): Promise<void> {
  const { llamaCppUnavailable } = await import('../support/llama-cpp.ts');
  if (llamaCppUnavailable) return void console.log(`quantize-process bench skipped: ${llamaCppUnavailable}`);
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  const { writeLlamaGguf } = await import('../quantize-fixtures.ts');
  const { fileTypeByName } = await import('../../kernels/file-types.ts');
  const threads = process.env.BENCH_THREADS ?? '2';
  const runs = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
  const types = (process.env.BENCH_TYPES ?? 'q8_0,q4_0,q5_K_M').split(',');
  const dir = mkdtempSync(join(tmpdir(), 'gguf-forge-qproc-'));
  try {
    const input = join(dir, 'model-f32.gguf');
    await writeLlamaGguf(input, { nLayer: Number(process.env.BENCH_LAYERS ?? 8), nEmbd: 1024, nFf: 2816, nHead: 16, nHeadKv: 16, tied: false });
    console.log(`input ${(statSync(input).size / 1e6).toFixed(0)} MB F32, ${threads} thread(s), whole processes, median of ${runs} interleaved runs; ratio = llama.cpp s / ours s\n`);
    console.log(`${'type'.padEnd(8)} ${'llama.cpp'.padStart(10)} ${'ours --no-validate'.padStart(19)} ${'ratio'.padStart(7)} ${'target'.padStart(7)} ${'ours (validate)'.padStart(16)} ${'ratio'.padStart(7)} ${'target'.padStart(7)}`);
    const every: string[] = [];
    const cpu: string[] = [];
    for (const ft of types) {
      const out = join(dir, `out-${ft}.gguf`);
      const clean = () => rmSync(out, { force: true });
      const t = timeInterleaved([
        { label: 'llama', args: [LLAMA_QUANTIZE, input, out, String(fileTypeByName(ft)!.id), threads], before: clean },
        { label: 'fast', args: [CLI, 'quantize', input, out, '--type', ft, '--threads', threads, '--no-validate'], before: clean },
        { label: 'validate', args: [CLI, 'quantize', input, out, '--type', ft, '--threads', threads], before: clean },
      ], runs);
      const [l, f, v] = ['llama', 'fast', 'validate'].map((k) => t.get(k)!);
      const [tf, tv] = TARGETS[ft] ?? [1, 0.8];
      const mark = (ratio: number, target: number) => `${ratio.toFixed(2)}×`.padStart(7) + ` ${`≥${target}×`.padStart(6)}${ratio >= target ? ' ' : '!'}`;
      console.log(`${ft.padEnd(8)} ${`${l!.median.toFixed(2)} s`.padStart(10)} ${`${f!.median.toFixed(2)} s`.padStart(19)} ${mark(l!.median / f!.median, tf)} ${`${v!.median.toFixed(2)} s`.padStart(16)} ${mark(l!.median / v!.median, tv)}`);
      const runsOf = (r: typeof l) => r!.runs.map((x, i) => `${x.toFixed(2)}/${r!.cpuRuns[i]!.toFixed(2)}`).join(' ');
      every.push(`${ft}: llama.cpp ${runsOf(l)}; --no-validate ${runsOf(f)}; validate ${runsOf(v)}`);
      cpu.push(`${ft}: llama.cpp ${l!.cpuMedian.toFixed(2)} s, ours --no-validate ${f!.cpuMedian.toFixed(2)} s (${(l!.cpuMedian / f!.cpuMedian).toFixed(2)}×), validate ${v!.cpuMedian.toFixed(2)} s (${(l!.cpuMedian / v!.cpuMedian).toFixed(2)}×)`);
      clean();
    }
    console.log(`\n('!' marks a missed target; targets are on wall time)\nCPU time (user + sys, median; a loaded machine inflates it less than wall time), ratio = llama.cpp / ours:\n  ${cpu.join('\n  ')}`);
    console.log(`every run (wall s / cpu s):\n  ${every.join('\n  ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
