/**
 * Reference-path throughput: our pure-TS quantizers/dequantizers vs llama.cpp's
 * `ggml_quantize_chunk` / `to_float` (single thread both), measured in the same run.
 * MB/s counts f32 input bytes (4 per value) for quantize and f32 output bytes for dequantize, per
 * CPU second of this process (both sides run on this thread). ratio = llama.cpp time / our time.
 */
import { loadLlamaCpp, llamaCppUnavailable } from '../support/llama-cpp.ts';
import { dequantize, quantizeRows } from '../../kernels/quant-table.ts';
import { GgmlTypeId } from '../../kernels/ggml-types.ts';
import { makeInputs } from '../kernels-inputs.ts';
import { timeIt } from './cpu-time.ts';

export default async function bench(): Promise<void> {
  if (llamaCppUnavailable) { console.log(`skipped: ${llamaCppUnavailable}`); return; }
  const ll = await loadLlamaCpp();
  const n = 1 << 20, nPerRow = 4096, nrows = n / nPerRow;
  const src = makeInputs(1, n, ['gaussian', 'heavy-tailed', 'bf16-rounded', 'outlier-block']);
  const mb = (n * 4) / 1e6;
  console.log('type   quant ours MB/s  llama MB/s  ratio | dequant ours MB/s  llama MB/s  ratio');
  for (const name of ['F16', 'BF16', 'Q8_0', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K', 'MXFP4', 'IQ4_NL', 'IQ4_XS'] as const) {
    const id = GgmlTypeId[name];
    const qOurs = timeIt(() => quantizeRows(id, src, nrows, nPerRow));
    const qTheirs = timeIt(() => ll.quantizeChunk(id, src, nrows, nPerRow));
    const bytes = ll.quantizeChunk(id, src, nrows, nPerRow);
    const dOurs = timeIt(() => dequantize(id, bytes, n));
    const dTheirs = timeIt(() => ll.dequantize(id, bytes, n));
    console.log(
      `${name.padEnd(6)} ${(mb / qOurs * 1e3).toFixed(1).padStart(14)} ${(mb / qTheirs * 1e3).toFixed(1).padStart(11)} ${(qTheirs / qOurs).toFixed(3).padStart(6)} |` +
      ` ${(mb / dOurs * 1e3).toFixed(1).padStart(17)} ${(mb / dTheirs * 1e3).toFixed(1).padStart(11)} ${(dTheirs / dOurs).toFixed(3).padStart(6)}`,
    );
  }
}
