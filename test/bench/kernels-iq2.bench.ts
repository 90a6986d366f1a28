/**
 * `npm run bench iq2`: single-thread throughput of the IQ2 quantizers with an importance matrix
 * (and IQ2_S without one) and of the dequantizers: the JS reference and the wasm kernels (in this
 * thread, no pool) against llama.cpp's `ggml_quantize_chunk` with the same imatrix / `to_float`,
 * same run. CPU time of this process, MB/s of f32 values; ratio = llama.cpp time / our time. The
 * grid init (ours and `ggml_quantize_init`) runs before timing (in the warm-up call). Bytes are
 * checked equal first. The machine is shared, so absolute figures are noisy: read the ratios.
 */
import { loadLlamaCpp, llamaCppUnavailable } from '../support/llama-cpp.ts';
import { dequantize, quantizeRows } from '../../kernels/quant-table.ts';
import { GgmlTypeId, ggmlType } from '../../kernels/ggml-types.ts';
import { iq2Tables } from '../../kernels/ref/iq2-init.ts';
import { loadWasmModule } from '../../kernels/fast/wasm-module.ts';
import { WasmKernels } from '../../kernels/fast/wasm-kernels.mjs';
import { makeInputs, Rng } from '../kernels-inputs.ts';
import { timeIt } from './cpu-time.ts';

export default async function bench(): Promise<void> {
  if (llamaCppUnavailable) { console.log(`skipped: ${llamaCppUnavailable}`); return; }
  const ll = await loadLlamaCpp();
  const wasm = new WasmKernels(loadWasmModule());
  const n = 1 << 18, nPerRow = 4096, nrows = n / nPerRow;
  const src = makeInputs(1, n, ['gaussian', 'heavy-tailed', 'bf16-rounded', 'outlier-block']);
  const rng = new Rng(2);
  const qw = Float32Array.from({ length: nPerRow }, () => rng.gauss() ** 2 + 0.01);
  const mb = (n * 4) / 1e6;
  const rate = (ms: number) => (mb / ms * 1e3).toFixed(2).padStart(8);
  const ratio = (theirs: number, ours: number) => (theirs / ours).toFixed(2).padStart(6);
  console.log('CPU time of this thread; MB/s of f32; ratio = llama.cpp time / ours. The machine is shared: compare ratios.');
  console.log('type               llama MB/s |  ref MB/s  ratio | wasm MB/s  ratio || dequant llama   ref  ratio   wasm  ratio');
  for (const [name, withImatrix] of [['IQ2_XXS', true], ['IQ2_XS', true], ['IQ2_S', true], ['IQ2_S', false]] as const) {
    const id = GgmlTypeId[name];
    const t = ggmlType(id)!;
    ll.quantizeInit(id);
    iq2Tables(name === 'IQ2_XXS' ? 256 : name === 'IQ2_XS' ? 512 : 1024);
    const w = withImatrix ? qw : undefined;
    const bytes = ll.quantizeChunk(id, src, nrows, nPerRow, w);
    const out = new Uint8Array(bytes.length);
    const wasmQuantize = () => (w ? wasm.quantizeImatrix(t, src, 0, n, out, 0, w, nPerRow) : wasm.quantize(t, src, 0, n, out, 0));
    wasmQuantize();
    if (!Buffer.from(out).equals(Buffer.from(bytes))) throw new Error(`${name}: wasm bytes differ from llama.cpp's`);
    const qTheirs = timeIt(() => ll.quantizeChunk(id, src, nrows, nPerRow, w), 1000);
    const qRef = timeIt(() => quantizeRows(id, src, nrows, nPerRow, w), 1000);
    const qWasm = timeIt(wasmQuantize, 1000);
    const back = new Float32Array(n);
    const dTheirs = timeIt(() => ll.dequantize(id, bytes, n), 300);
    const dRef = timeIt(() => dequantize(id, bytes, n), 300);
    const dWasm = timeIt(() => wasm.dequantize(t, bytes, 0, n, back, 0), 300);
    console.log(`${(name + (withImatrix ? ' +imatrix' : '')).padEnd(16)} ${rate(qTheirs).padStart(12)} | ${rate(qRef)} ${ratio(qTheirs, qRef)} | ${rate(qWasm).padStart(9)} ${ratio(qTheirs, qWasm)} ||` +
      ` ${rate(dTheirs).padStart(13)} ${rate(dRef)} ${ratio(dTheirs, dRef)} ${rate(dWasm)} ${ratio(dTheirs, dWasm)}`);
  }
}
