/**
 * `npm run bench iq2`: reference-path throughput of the IQ2 quantizers with an importance matrix
 * (and IQ2_S without one) against llama.cpp's `ggml_quantize_chunk` with the same imatrix, and the
 * dequantizers against `to_float`; single thread both, same run. CPU time of this process, MB/s of
 * f32 values; ratio = llama.cpp time / our time. The grid init (ours and `ggml_quantize_init`) runs
 * before timing. The machine is shared, so absolute figures are noisy: read the ratios.
 */
import { loadLlamaCpp, llamaCppUnavailable } from '../support/llama-cpp.ts';
import { dequantize, quantizeRows } from '../../kernels/quant-table.ts';
import { GgmlTypeId } from '../../kernels/ggml-types.ts';
import { iq2Tables } from '../../kernels/ref/iq2-init.ts';
import { makeInputs, Rng } from '../kernels-inputs.ts';

const cpuMs = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1e3; };

/** Mean CPU ms per call after one warm-up call (JIT). */
function timeIt(fn: () => void, minMs = 1000): number {
  fn();
  let runs = 0;
  const t0 = cpuMs();
  do { fn(); runs++; } while (cpuMs() - t0 < minMs);
  return (cpuMs() - t0) / runs;
}

export default async function bench(): Promise<void> {
  if (llamaCppUnavailable) { console.log(`skipped: ${llamaCppUnavailable}`); return; }
  const ll = await loadLlamaCpp();
  const n = 1 << 18, nPerRow = 4096, nrows = n / nPerRow;
  const src = makeInputs(1, n, ['gaussian', 'heavy-tailed', 'bf16-rounded', 'outlier-block']);
  const rng = new Rng(2);
  const qw = Float32Array.from({ length: nPerRow }, () => rng.gauss() ** 2 + 0.01);
  const mb = (n * 4) / 1e6;
  const fmt = (ours: number, theirs: number) =>
    `${(mb / ours * 1e3).toFixed(2).padStart(9)} ${(mb / theirs * 1e3).toFixed(2).padStart(10)} ${(theirs / ours).toFixed(3).padStart(6)}`;
  console.log('type          quant ours MB/s llama MB/s  ratio | dequant ours MB/s llama MB/s  ratio');
  for (const [name, withImatrix] of [['IQ2_XXS', true], ['IQ2_XS', true], ['IQ2_S', true], ['IQ2_S', false]] as const) {
    const id = GgmlTypeId[name];
    ll.quantizeInit(id);
    iq2Tables(name === 'IQ2_XXS' ? 256 : name === 'IQ2_XS' ? 512 : 1024);
    const w = withImatrix ? qw : undefined;
    const qOurs = timeIt(() => quantizeRows(id, src, nrows, nPerRow, w));
    const qTheirs = timeIt(() => ll.quantizeChunk(id, src, nrows, nPerRow, w));
    const bytes = ll.quantizeChunk(id, src, nrows, nPerRow, w);
    const dOurs = timeIt(() => dequantize(id, bytes, n), 300);
    const dTheirs = timeIt(() => ll.dequantize(id, bytes, n), 300);
    console.log(`${(name + (withImatrix ? ' +imatrix' : '')).padEnd(16)} ${fmt(qOurs, qTheirs)} |        ${fmt(dOurs, dTheirs)}`);
  }
}
