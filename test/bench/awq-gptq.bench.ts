/**
 * AWQ/GPTQ RTN + packing throughput (one thread, JS reference path) against llama.cpp's
 * `ggml_quantize_chunk` for Q4_1 — the closest llama.cpp type (asymmetric 4-bit min/scale groups)
 * — on the same data in the same run. MB/s of F32 input and the ratio ours / llama.cpp.
 */
import { loadLlamaCpp, llamaCppUnavailable } from '../support/llama-cpp.ts';
import { GgmlTypeId } from '../../kernels/ggml-types.ts';
import { awqRtnSolver } from '../../kernels/groupwise/rtn-awq.ts';
import { gptqRtnSolver } from '../../kernels/groupwise/rtn-gptq.ts';
import { packAwqGemm, unpackAwqGemm } from '../../kernels/groupwise/awq-gemm.ts';
import { packGptq, unpackGptq } from '../../kernels/groupwise/gptq.ts';
import { dequantizeRows } from '../../kernels/groupwise/dequantize.ts';

const OUT = 1024, IN = 4096;
const REPS = 3;

function weights(n: number): Float32Array {
  const out = new Float32Array(n);
  let s = 0x9e3779b9;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(rnd())) * Math.cos(2 * Math.PI * rnd()) * 0.02;
  return out;
}

function best(fn: () => unknown): number {
  fn();
  let ms = Infinity;
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    fn();
    ms = Math.min(ms, performance.now() - t0);
  }
  return ms;
}

export default async function bench(): Promise<void> {
  if (llamaCppUnavailable) { console.log(`skipped: ${llamaCppUnavailable}`); return; }
  const ll = await loadLlamaCpp();
  const w = weights(OUT * IN);
  const mb = (w.length * 4) / 1e6;
  const cMs = best(() => ll.quantizeChunk(GgmlTypeId.Q4_1, w, OUT, IN));
  const rate = (ms: number) => `${(mb / (ms / 1000)).toFixed(0).padStart(5)} MB/s`;
  console.log(`${OUT}x${IN} F32 (${mb.toFixed(1)} MB); llama.cpp Q4_1 1T: ${rate(cMs)}`);
  const spec = { bits: 4 as const, groupSize: 128, sym: false };
  const awq = awqRtnSolver.quantize(w, OUT, IN, spec);
  const gptq = gptqRtnSolver().quantize(w, OUT, IN, { ...spec, sym: true });
  const packedA = packAwqGemm(awq), packedG = packGptq(gptq);
  const rows: [string, () => unknown][] = [
    ['AWQ RTN solve', () => awqRtnSolver.quantize(w, OUT, IN, spec)],
    ['AWQ GEMM pack', () => packAwqGemm(awq)],
    ['AWQ GEMM unpack', () => unpackAwqGemm(packedA, OUT, IN, 128)],
    ['GPTQ RTN solve', () => gptqRtnSolver().quantize(w, OUT, IN, { ...spec, sym: true })],
    ['GPTQ v1 pack', () => packGptq(gptq)],
    ['GPTQ v1 unpack', () => unpackGptq(packedG, OUT, IN, 4, 128)],
    ['dequantize', () => dequantizeRows(awq)],
  ];
  for (const [name, fn] of rows) {
    const ms = best(fn);
    console.log(`${name.padEnd(16)} ${rate(ms)}  ratio vs llama.cpp Q4_1 ${(cMs / ms).toFixed(2)}`);
  }
}
