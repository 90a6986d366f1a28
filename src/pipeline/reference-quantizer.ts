/**
 * The write stage's fallback: when the fast kernels (wasm + worker threads) cannot start, the JS
 * reference kernels run in this thread behind the same Quantizer interface, and a warning says so.
 * Same bytes (the reference is what the fast path is proven equal to), slower.
 */
import { createQuantizer, type Quantizer } from '../../kernels/fast/index.ts';
import { RoundTripMetrics } from '../../kernels/metrics.mjs';

/** The fast quantizer; if it cannot start, the in-process reference kernels, said out loud. */
export async function openQuantizer(threads?: number): Promise<{ quantizer: Quantizer; warning?: string }> {
  try {
    return { quantizer: await createQuantizer(threads ? { threads } : {}) };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { quantizer: referenceQuantizer(), warning: `fast kernels unavailable (${why}); using the single-threaded reference kernels (same bytes, slower)` };
  }
}

/** The JS reference kernels behind the Quantizer interface. */
export function referenceQuantizer(): Quantizer {
  // Loaded on first use: a write that only copies (no quantizer needed) loads no kernels.
  const kernels = () => import('../../kernels/quant-table.ts');
  return {
    threads: 1,
    quantize: async (type, src, nrows, nPerRow) => (await kernels()).quantizeRows(type, src, nrows, nPerRow),
    quantizeChecked: async (type, src, nrows, nPerRow, _out, opts) => {
      const { quantizeRows, dequantize } = await kernels();
      const n = nrows * nPerRow;
      const bytes = quantizeRows(type, src, nrows, nPerRow, opts?.imatrix);
      let metrics: RoundTripMetrics | undefined;
      if (opts?.measure) {
        metrics = new RoundTripMetrics();
        metrics.add(src.subarray(0, n), dequantize(type, bytes, n));
      }
      return { bytes, firstNonFinite: src.subarray(0, n).findIndex((v) => !Number.isFinite(v)), metrics };
    },
    dequantize: async (type, src, n) => (await kernels()).dequantize(type, src, n),
    close: async () => undefined,
  };
}
