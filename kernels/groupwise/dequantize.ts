/**
 * Dequantize group-wise codes: `W[n, k] = (q[n, k] - z[g_idx[k], n]) * s[g_idx[k], n]`, the one
 * formula every AWQ (`dequantize_gemm`) and GPTQ (v1/v2 after the zero offset) kernel computes.
 * We compute in float32 from fp16 scales; upstream computes in fp16 (differences ~2^-10 relative).
 */
import type { QuantizedMatrix } from './spec.ts';

/** Rows `[rowStart, rowStart + rowCount)` of the dequantized `[out, in]` weight. */
export function dequantizeRows(m: QuantizedMatrix, rowStart = 0, rowCount = m.rows - rowStart): Float32Array {
  const { rows, cols, codes, scales, zeros, gIdx } = m;
  if (rowStart < 0 || rowStart + rowCount > rows) throw new RangeError(`rows ${rowStart}+${rowCount} outside 0..${rows}`);
  const out = new Float32Array(rowCount * cols);
  for (let r = 0; r < rowCount; r++) {
    const n = rowStart + r;
    for (let k = 0; k < cols; k++) {
      const p = gIdx[k] * rows + n;
      out[r * cols + k] = (codes[n * cols + k] - zeros[p]) * scales[p];
    }
  }
  return out;
}
