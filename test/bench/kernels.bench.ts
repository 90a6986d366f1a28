/**
 * Fast-path throughput against llama.cpp, same data, same run, as MB/s of F32 input (quantize) or
 * F32 output (dequantize): llama.cpp single-threaded (`ggml_quantize_chunk`, `to_float`) against
 * our worker pool at 1 thread and at `availableParallelism()` threads, with ratios. Input is an
 * ordinary Float32Array (the pool copies it into shared memory) except in the "shared" column,
 * which hands the pool a SharedArrayBuffer-backed array. Best of a few repetitions after a warm-up.
 */
import { availableParallelism } from 'node:os';
import { loadLlamaCpp, llamaCppUnavailable } from '../support/llama-cpp.ts';
import { createQuantizer, sharedFloat32Array, type Quantizer } from '../../kernels/fast/index.ts';
import { GgmlTypeId } from '../../kernels/ggml-types.ts';

const TYPES = ['F16', 'BF16', 'Q8_0', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K'] as const;
const N_PER_ROW = 4096;
const NROWS = 1024; // 4 Mi floats = 16.8 MB of F32 per call
const REPS = 3;

/** Weight-like data: bf16-rounded Gaussian (σ 0.02) with 0.5% outliers, deterministic. */
function weights(n: number): Float32Array {
  const out = new Float32Array(n);
  const bits = new Uint32Array(out.buffer);
  let s = 0x9e3779b9;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  for (let i = 0; i < n; i++) {
    const g = Math.sqrt(-2 * Math.log(rnd())) * Math.cos(2 * Math.PI * rnd());
    out[i] = g * 0.02 * (rnd() < 0.005 ? 20 : 1);
    bits[i] = (bits[i]! + 0x7fff + ((bits[i]! >>> 16) & 1)) & 0xffff0000;
  }
  return out;
}

/** Best wall-clock ms over REPS runs after a warm-up; `cpu` gets the best process CPU ms (all threads). */
async function best(fn: () => unknown, cpu?: { ms: number }): Promise<number> {
  await fn();
  let ms = Infinity;
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await fn();
    ms = Math.min(ms, performance.now() - t0);
    const c = process.cpuUsage(c0);
    if (cpu) cpu.ms = Math.min(cpu.ms, (c.user + c.system) / 1000);
  }
  return ms;
}

export default async function bench(): Promise<void> {
  if (llamaCppUnavailable) { console.log(`skipped: ${llamaCppUnavailable}`); return; }
  const ll = await loadLlamaCpp();
  const threads = availableParallelism();
  const src = weights(NROWS * N_PER_ROW);
  const shared = sharedFloat32Array(src.length);
  shared.set(src);
  const mb = (src.length * 4) / 1e6;
  const one = await createQuantizer({ threads: 1 });
  const all = threads > 1 ? await createQuantizer({ threads }) : one;
  const rate = (ms: number) => (mb / (ms / 1000)).toFixed(0);
  const cell = (ms: number, cMs: number) => `${rate(ms).padStart(6)} ${(cMs / ms).toFixed(2).padStart(5)}`;
  const runs: [string, Quantizer, Float32Array][] = [['1T', one, src], [`${threads}T`, all, src], [`${threads}T shared`, all, shared]];
  console.log(`${mb.toFixed(1)} MB of F32 (${NROWS}×${N_PER_ROW}), machine load ${(await import('node:os')).loadavg()[0]!.toFixed(1)}`);
  console.log('quantize: MB/s of F32 input (wall clock), ratio = ours / llama.cpp 1 thread;');
  console.log('cpu = the same 1-thread ratio by process CPU time, which other load on the machine does not skew');
  console.log(`type   llama.cpp 1T | ${runs.map(([n]) => `${n.padStart(12)}  ratio`).join(' | ')} |  cpu`);
  try {
    for (const name of TYPES) {
      const id = GgmlTypeId[name];
      const cCpu = { ms: Infinity }, oneCpu = { ms: Infinity };
      const cMs = await best(() => ll.quantizeChunk(id, src, NROWS, N_PER_ROW), cCpu);
      const cols: string[] = [];
      for (const [, q, input] of runs) {
        const ms = await best(() => q.quantize(id, input, NROWS, N_PER_ROW), q === one ? oneCpu : undefined);
        cols.push(`${' '.repeat(6)}${cell(ms, cMs)}`);
      }
      console.log(`${name.padEnd(6)} ${rate(cMs).padStart(12)} | ${cols.join(' | ')} | ${(cCpu.ms / oneCpu.ms).toFixed(2).padStart(5)}`);
    }
    console.log(`dequantize: MB/s of F32 output, ratio = ours / llama.cpp 1 thread`);
    console.log(`type   llama.cpp 1T | ${runs.slice(0, 2).map(([n]) => `${n.padStart(12)}  ratio`).join(' | ')}`);
    for (const name of TYPES) {
      const id = GgmlTypeId[name];
      const bytes = ll.quantizeChunk(id, src, NROWS, N_PER_ROW);
      const cMs = await best(() => ll.dequantize(id, bytes, src.length));
      const cols: string[] = [];
      for (const [, q] of runs.slice(0, 2)) cols.push(`${' '.repeat(6)}${cell(await best(() => q.dequantize(id, bytes, src.length)), cMs)}`);
      console.log(`${name.padEnd(6)} ${rate(cMs).padStart(12)} | ${cols.join(' | ')}`);
    }
  } finally {
    await one.close();
    if (all !== one) await all.close();
  }
}
