/**
 * `npm run bench imatrix-quantize`: per-tensor quantization WITH an importance matrix, ours (the
 * worker pool: wasm imatrix kernels, or the JS reference in the workers for types without one)
 * against llama.cpp's `ggml_quantize_chunk(type, src, dst, 0, nrows, n_per_row, imatrix)` with the
 * same imatrix, at the same thread count, in the same run. llama.cpp at 2 threads: the rows split
 * in two halves quantized at once by two koffi async calls (libuv worker threads), the way
 * llama-quantize splits a tensor between its threads. Ratio = our MB/s ÷ llama.cpp's; the `cpu`
 * columns are the same ratios by process CPU time (all threads), which the other engineers' load on
 * this machine skews less (they show work per byte, not parallel speed-up).
 * Bytes are checked equal before timing.
 */
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { loadLlamaCpp, llamaCppUnavailable } from '../support/llama-cpp.ts';
import { createQuantizer, sharedBytes, sharedFloat32Array, type Quantizer } from '../../kernels/fast/index.ts';
import { wasmImatrixNames } from '../../kernels/fast/wasm-kernels.mjs';
import { loadWasmModule } from '../../kernels/fast/wasm-module.ts';
import { quantKernel } from '../../kernels/quant-table.ts';
import { GgmlTypeId, ggmlType, rowSize } from '../../kernels/ggml-types.ts';

const N_PER_ROW = 4096;
const NROWS = 256; // 1 Mi floats = 4.2 MB of F32 per call (llama.cpp's imatrix paths run at ~10 MB/s)
const REPS = 3;
// BENCH_TYPES=IQ2_XS,Q4_K runs only those.
const ALL_TYPES = ['Q4_K', 'Q5_K', 'IQ2_XXS', 'IQ2_XS', 'IQ2_S', 'Q2_K', 'Q3_K', 'Q6_K', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'IQ4_NL', 'IQ4_XS',
  'IQ3_XXS', 'IQ3_S', 'IQ1_S', 'IQ1_M'];

/** Weight-like data: bf16-rounded Gaussian (σ 0.02) with 0.5% outliers, deterministic. */
function weights(n: number): Float32Array {
  const out = sharedFloat32Array(n);
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

/** An imatrix as llama-imatrix writes it: mean x² per column, a few columns far above the rest. */
function importance(n: number): Float32Array {
  const v = new Float32Array(n);
  let s = 12345;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  for (let i = 0; i < n; i++) v[i] = (rnd() * rnd() + 1e-4) * (rnd() < 0.01 ? 100 : 1);
  return v;
}

/**
 * Best wall-clock ms of each fn over REPS rounds after a warm-up, the fns taking turns within a
 * round (so a burst of load on the shared machine hits all of them); `cpu[i]` (if given) gets
 * fn i's best process CPU ms (all threads).
 */
async function bestOf(fns: (() => unknown)[], cpu: ({ ms: number } | undefined)[] = []): Promise<number[]> {
  for (const fn of fns) await fn();
  const ms = fns.map(() => Infinity);
  for (let r = 0; r < REPS; r++) {
    for (const [i, fn] of fns.entries()) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      await fn();
      ms[i] = Math.min(ms[i]!, performance.now() - t0);
      const c = process.cpuUsage(c0);
      const slot = cpu[i];
      if (slot) slot.ms = Math.min(slot.ms, (c.user + c.system) / 1000);
    }
  }
  return ms;
}

type AsyncChunk = {
  async(type: number, src: Float32Array, dst: Uint8Array, start: number, nrows: number, nPerRow: number, qw: Float32Array, cb: (e: unknown, r: unknown) => void): void;
};

export default async function bench(): Promise<void> {
  if (llamaCppUnavailable) { console.log(`skipped: ${llamaCppUnavailable}`); return; }
  const ll = await loadLlamaCpp();
  // The same function as ll.quantizeChunk, declared again here for its `.async` form.
  const koffi = (await import('koffi')).default;
  const chunk = koffi.load(join(ll.binsDir, 'libggml-base.so'))
    .func('size_t ggml_quantize_chunk(int type, const float *src, _Out_ uint8_t *dst, int64_t start, int64_t nrows, int64_t n_per_row, const float *imatrix)') as unknown as AsyncChunk;
  const src = weights(NROWS * N_PER_ROW);
  const qw = importance(N_PER_ROW);
  const mb = (src.length * 4) / 1e6;
  const wasm = wasmImatrixNames(loadWasmModule());
  const one = await createQuantizer({ threads: 1 });
  const two = await createQuantizer({ threads: 2 });
  const rate = (ms: number) => (mb / (ms / 1000)).toFixed(1);
  const ratio = (c: number, ours: number) => (c / ours).toFixed(2);
  console.log(`${mb.toFixed(1)} MB of F32 (${NROWS}×${N_PER_ROW}) per call, machine load ${loadavg()[0]!.toFixed(1)} on ${(await import('node:os')).availableParallelism()} cores`);
  console.log(`MB/s of F32 input (wall clock, best of ${REPS}, the four runs taking turns); ratio = ours / llama.cpp at the same thread count; cpu1T/cpu2T = the ratios by process CPU time (all threads), which other load skews less.`);
  console.log('The machine is shared and loaded (2 cores, several engineers): absolute MB/s are noisy and 2 threads may not get 2 cores; compare ratios.');
  console.log('type     kernel   | llama.cpp 1T    ours 1T  ratio |  llama.cpp 2T    ours 2T  ratio | cpu1T cpu2T');
  try {
    const wanted = process.env.BENCH_TYPES ? process.env.BENCH_TYPES.split(',') : ALL_TYPES;
    for (const name of wanted) {
      const id = (GgmlTypeId as Record<string, number>)[name];
      if (id === undefined || !quantKernel(id)?.quantizeImatrix) { console.log(`${name.padEnd(8)} not in this branch's quant table (no imatrix quantizer): skipped`); continue; }
      if (name.startsWith('IQ2') || name.startsWith('IQ3') || name.startsWith('IQ1')) ll.quantizeInit(id);
      const t = ggmlType(id)!;
      const rowBytes = rowSize(t, N_PER_ROW);
      const want = ll.quantizeChunk(id, src, NROWS, N_PER_ROW, qw);
      const out = sharedBytes(want.length);
      const ours = (q: Quantizer) => q.quantizeChecked(id, src, NROWS, N_PER_ROW, out, { imatrix: qw });
      for (const q of [one, two]) {
        await ours(q);
        if (!Buffer.from(out).equals(Buffer.from(want))) throw new Error(`${name}: our bytes at ${q.threads} threads differ from llama.cpp's`);
      }
      const cDst = new Uint8Array(want.length);
      const half = NROWS / 2;
      const cHalf = (r0: number) => new Promise((resolve, reject) =>
        chunk.async(id, src.subarray(r0 * N_PER_ROW), cDst.subarray(r0 * rowBytes), 0, half, N_PER_ROW, qw, (e, r) => (e ? reject(e) : resolve(r))));
      const c2 = () => Promise.all([cHalf(0), cHalf(half)]);
      await c2();
      if (!Buffer.from(cDst).equals(Buffer.from(want))) throw new Error(`${name}: llama.cpp's two halves differ from one call`);
      const cCpu = { ms: Infinity }, oCpu = { ms: Infinity }, c2Cpu = { ms: Infinity }, o2Cpu = { ms: Infinity };
      const [c1Ms, o1Ms, c2Ms, o2Ms] = await bestOf([() => ll.quantizeChunk(id, src, NROWS, N_PER_ROW, qw), () => ours(one), c2, () => ours(two)], [cCpu, oCpu, c2Cpu, o2Cpu]) as [number, number, number, number];
      const kernel = wasm.has(name) ? 'wasm' : 'JS ref';
      console.log(`${name.padEnd(8)} ${kernel.padEnd(8)} | ${rate(c1Ms).padStart(12)} ${rate(o1Ms).padStart(10)} ${ratio(c1Ms, o1Ms).padStart(6)} | ${rate(c2Ms).padStart(13)} ${rate(o2Ms).padStart(10)} ${ratio(c2Ms, o2Ms).padStart(6)} | ${ratio(cCpu.ms, oCpu.ms).padStart(5)} ${ratio(c2Cpu.ms, o2Cpu.ms).padStart(5)}`);
    }
  } finally {
    await one.close();
    await two.close();
  }
}
