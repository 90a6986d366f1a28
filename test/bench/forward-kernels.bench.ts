/**
 * Forward-pass matmul throughput against llama.cpp, same shapes, same run: GFLOP/s of
 * out = x·Wᵀ for a prompt-processing shape (512 tokens × 1024 → 1024, 1.07 GFLOP), per weight type.
 * Ours: the fast engine (wasm SIMD on the worker pool) at 2 threads, x and W already on shared
 * memory (as the model keeps them) and, for F32, also staged from ordinary arrays. llama.cpp: a
 * ggml_mul_mat graph through koffi on its CPU backend at 2 threads (it also converts x to the
 * weight's vec_dot_type, part of its cost). Attention (512 tokens, 16 heads of 64) is timed too,
 * against llama-graph's non-flash attention graph. Median of a few runs after a warm-up.
 *
 * The machine is shared: wall-clock ratios swing with its load (printed). The "per CPU-s" columns
 * divide the work by the process CPU time each side used (all its threads), which load disturbs
 * less; llama.cpp's threads spin while they wait, which that measure counts against it.
 */
import { loadavg } from 'node:os';
import { llamaCppUnavailable } from '../support/llama-cpp.ts';
import { loadGgmlOps } from '../support/ggml-graph.ts';
import { createFastEngine, toSharedBytes } from '../../kernels/fast/forward-engine.ts';
import { quantizeRows } from '../../kernels/quant-table.ts';
import { GgmlTypeId, type GgmlTypeName } from '../../kernels/ggml-types.ts';
import type { WeightMatrix } from '../../kernels/forward/index.ts';

const TYPES: GgmlTypeName[] = ['F32', 'F16', 'BF16', 'Q8_0', 'Q4_0', 'Q4_K', 'Q5_K', 'Q6_K'];
const ROWS = 1024, COLS = 1024, TOKENS = 512, THREADS = 2, REPS = 5;

function gauss(n: number, s: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let z = seed >>> 0;
  const rnd = () => ((z = (Math.imul(z, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(rnd())) * Math.cos(2 * Math.PI * rnd()) * s;
  return out;
}

/** Median wall seconds of REPS runs after a warm-up; `cpu.s` gets mean process CPU seconds per run (all threads). */
async function median(fn: () => unknown, cpu?: { s: number }): Promise<number> {
  await fn();
  const t: number[] = [];
  const c0 = process.cpuUsage();
  for (let i = 0; i < REPS; i++) {
    const t0 = performance.now();
    await fn();
    t.push((performance.now() - t0) / 1000);
  }
  const c = process.cpuUsage(c0);
  if (cpu) cpu.s = (c.user + c.system) / 1e6 / REPS;
  return t.sort((a, b) => a - b)[Math.floor(REPS / 2)]!;
}

export default async function bench(): Promise<void> {
  if (llamaCppUnavailable) { console.log(`skipped: ${llamaCppUnavailable}`); return; }
  const g = await loadGgmlOps();
  const eng = await createFastEngine({ threads: THREADS });
  const flop = 2 * ROWS * COLS * TOKENS;
  const gf = (s: number) => (flop / s / 1e9).toFixed(1).padStart(7);
  console.log(`matmul ${TOKENS} tokens × ${COLS} → ${ROWS}, ${THREADS} threads, machine load ${loadavg()[0]!.toFixed(1)}`);
  console.log('type     ours GFLOP/s  llama.cpp GFLOP/s  ratio   | per CPU-s: ours  llama.cpp  ratio');
  const x = gauss(TOKENS * COLS, 1, 1);
  const xs = new Float32Array(new SharedArrayBuffer(x.byteLength));
  xs.set(x);
  const out = new Float32Array(new SharedArrayBuffer(TOKENS * ROWS * 4));
  try {
    for (const name of TYPES) {
      const type = GgmlTypeId[name];
      const data = quantizeRows(type, gauss(ROWS * COLS, 0.02, 2), ROWS, COLS);
      const w: WeightMatrix = { type, rows: ROWS, cols: COLS, data: toSharedBytes(data) };
      const oc = { s: 0 };
      const ours = await median(() => eng.matmul(xs, TOKENS, w, out), oc);
      const c0 = process.cpuUsage();
      const theirs = g.timeMulMat({ type, rows: ROWS, cols: COLS, data }, TOKENS, THREADS, REPS);
      const c = process.cpuUsage(c0);
      const tc = (c.user + c.system) / 1e6 / REPS;
      console.log(`${name.padEnd(8)} ${gf(ours)}       ${gf(theirs)}          ${(theirs / ours).toFixed(2).padStart(5)}   |          ${gf(oc.s)}  ${gf(tc)}   ${(tc / oc.s).toFixed(2)}`);
      if (name === 'F32') {
        const staged = await median(() => eng.matmul(x, TOKENS, { type, rows: ROWS, cols: COLS, data }, new Float32Array(TOKENS * ROWS)));
        console.log(`F32 staged from ordinary arrays: ${gf(staged)} GFLOP/s (${(theirs / staged).toFixed(2)}× llama.cpp)`);
      }
    }
    const H = 16, D = 64;
    const q = gauss(TOKENS * H * D, 1, 3), k = gauss(TOKENS * H * D, 1, 4), v = gauss(TOKENS * H * D, 1, 5);
    const o = new Float32Array(TOKENS * H * D);
    const ours = await median(() => eng.attention(q, k, v, TOKENS, H, H, D, 0.125, o));
    const theirs = await median(() => g.attention(q, k, v, TOKENS, H, H, D, 0.125));
    console.log(`attention ${TOKENS} tokens, ${H}×${D}: ours ${(ours * 1000).toFixed(1)} ms, llama.cpp graph (1 thread, incl. graph build) ${(theirs * 1000).toFixed(1)} ms, ratio ${(theirs / ours).toFixed(2)}`);
  } finally {
    await eng.close();
  }
}
