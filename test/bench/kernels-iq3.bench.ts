/**
 * `npm run bench iq3`: the IQ3_XXS and IQ3_S kernels single-threaded, in this thread: the wasm
 * kernels (WasmKernels, as a pool worker runs them) and the JS reference against llama.cpp's
 * `ggml_quantize_chunk` (after `ggml_quantize_init`), with an importance matrix and without (the
 * NULL-imatrix quantizers llama.cpp also has for these two types), and the dequantizers against
 * `to_float`. Same inputs, same run; CPU time of this process (MB/s of f32 values); ratio =
 * llama.cpp time / our time. Bytes are checked equal before timing; our init tables (lazy, per
 * grid size) are built by that check, llama.cpp's by ggml_quantize_init, both before timing. The
 * machine is shared and loaded, so absolute figures are noisy: read the ratios.
 */
import { loadLlamaCpp, llamaCppUnavailable } from '../support/llama-cpp.ts';
import { dequantize, quantizeRows } from '../../kernels/quant-table.ts';
import { GgmlTypeId, ggmlType } from '../../kernels/ggml-types.ts';
import { WasmKernels } from '../../kernels/fast/wasm-kernels.mjs';
import { loadWasmModule } from '../../kernels/fast/wasm-module.ts';
import { makeInputs, Rng } from '../kernels-inputs.ts';

const cpuMs = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1e3; };

/** Mean CPU ms per call after one warm-up call (JIT). */
function timeIt(fn: () => void, minMs = 800): number {
  fn();
  let runs = 0;
  const t0 = cpuMs();
  do { fn(); runs++; } while (cpuMs() - t0 < minMs);
  return (cpuMs() - t0) / runs;
}

export default async function bench(): Promise<void> {
  if (llamaCppUnavailable) { console.log(`skipped: ${llamaCppUnavailable}`); return; }
  const ll = await loadLlamaCpp();
  const kernels = new WasmKernels(loadWasmModule());
  const n = 1 << 17, nPerRow = 4096, nrows = n / nPerRow;
  const src = makeInputs(1, n, ['gaussian', 'heavy-tailed', 'bf16-rounded', 'outlier-block']);
  const rng = new Rng(2);
  const qw = Float32Array.from({ length: nPerRow }, () => rng.gauss() ** 2 + 0.01);
  const mb = (n * 4) / 1e6;
  const rate = (ms: number) => (mb / ms * 1e3).toFixed(2);
  console.log(`${n} values (${nrows}×${nPerRow}), one thread each; MB/s of f32 by CPU time; ratio = llama.cpp time / ours. Shared, loaded machine: compare ratios.`);
  console.log('type               | quant llama  wasm  ratio   JS ref  ratio | dequant llama   wasm  ratio  JS ref  ratio');
  for (const [name, withImatrix] of [['IQ3_XXS', true], ['IQ3_S', true], ['IQ3_XXS', false], ['IQ3_S', false]] as const) {
    const id = GgmlTypeId[name];
    const t = ggmlType(id)!;
    ll.quantizeInit(id);
    const w = withImatrix ? qw : undefined;
    const out = new Uint8Array((n / 256) * t.typeSize);
    const wasmQ = () => { if (w) kernels.quantizeImatrix(t, src, 0, n, out, 0, w, nPerRow); else kernels.quantize(t, src, 0, n, out, 0); };
    const want = ll.quantizeChunk(id, src, nrows, nPerRow, w);
    wasmQ();
    if (!Buffer.from(out).equals(Buffer.from(want))) throw new Error(`${name}: wasm bytes differ from llama.cpp's`);
    if (!Buffer.from(quantizeRows(id, src, nrows, nPerRow, w)).equals(Buffer.from(want))) throw new Error(`${name}: reference bytes differ from llama.cpp's`);
    const qTheirs = timeIt(() => ll.quantizeChunk(id, src, nrows, nPerRow, w));
    const qWasm = timeIt(wasmQ);
    const qRef = timeIt(() => quantizeRows(id, src, nrows, nPerRow, w), 300);
    const back = new Float32Array(n);
    const dTheirs = timeIt(() => ll.dequantize(id, want, n), 300);
    const dWasm = timeIt(() => kernels.dequantize(t, want, 0, n, back, 0), 300);
    const dRef = timeIt(() => dequantize(id, want, n), 300);
    const r = (theirs: number, ours: number) => (theirs / ours).toFixed(2).padStart(6);
    console.log(`${(name + (w ? ' +imatrix' : ' no imatrix')).padEnd(18)} | ${rate(qTheirs).padStart(11)} ${rate(qWasm).padStart(5)} ${r(qTheirs, qWasm)} ${rate(qRef).padStart(8)} ${r(qTheirs, qRef)} | ${rate(dTheirs).padStart(13)} ${rate(dWasm).padStart(6)} ${r(dTheirs, dWasm)} ${rate(dRef).padStart(7)} ${r(dTheirs, dRef)}`);
  }
}
