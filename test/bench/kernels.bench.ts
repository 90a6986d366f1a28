/**
 * Fast-path throughput against llama.cpp, same data, same run: MB/s of F32 input for
 * `ggml_quantize_chunk` (llama.cpp, one thread) and for our worker pool at 1 thread and at
 * `availableParallelism()` threads, with the ratios. Best of a few repetitions after a warm-up.
 */
import { availableParallelism } from 'node:os';
import { loadLlamaCpp, llamaCppUnavailable } from '../support/llama-cpp.ts';
import { createQuantizer, type Quantizer } from '../../kernels/fast/index.ts';
import { GgmlTypeId } from '../../kernels/ggml-types.ts';

const TYPES = ['F16', 'BF16', 'Q8_0', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K'] as const;
const N_PER_ROW = 4096;
const NROWS = 1024; // 4 Mi floats = 16 MiB of F32 per call
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

async function best(fn: () => unknown): Promise<number> {
  await fn();
  let ms = Infinity;
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    await fn();
    ms = Math.min(ms, performance.now() - t0);
  }
  return ms;
}

export default async function bench(): Promise<void> {
  if (llamaCppUnavailable) { console.log(`skipped: ${llamaCppUnavailable}`); return; }
  const ll = await loadLlamaCpp();
  const threads = availableParallelism();
  const src = weights(NROWS * N_PER_ROW);
  const mb = (src.length * 4) / 1e6;
  const pools: [string, Quantizer][] = [['wasm 1T', await createQuantizer({ threads: 1 })]];
  if (threads > 1) pools.push([`wasm ${threads}T`, await createQuantizer({ threads })]);
  const rate = (ms: number) => (mb / (ms / 1000)).toFixed(0).padStart(6);
  console.log(`quantize ${mb.toFixed(1)} MB of F32 (${NROWS}×${N_PER_ROW}); MB/s of input, ratio = ours / llama.cpp 1 thread`);
  console.log(`type   llama.cpp 1T | ${pools.map(([n]) => `${n.padStart(9)}  ratio`).join(' | ')}`);
  try {
    for (const name of TYPES) {
      const id = GgmlTypeId[name];
      const cMs = await best(() => ll.quantizeChunk(id, src, NROWS, N_PER_ROW));
      const cols: string[] = [];
      for (const [, q] of pools) {
        const ms = await best(() => q.quantize(id, src, NROWS, N_PER_ROW));
        cols.push(`${rate(ms).padStart(9)}  ${(cMs / ms).toFixed(2).padStart(5)}`);
      }
      console.log(`${name.padEnd(6)} ${rate(cMs).padStart(12)} | ${cols.join(' | ')}`);
    }
  } finally {
    for (const [, q] of pools) await q.close();
  }
}
