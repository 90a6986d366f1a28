/**
 * Reference matrix multiplication, the semantics of ggml_mul_mat(ctx, W, x) followed by ggml_add of
 * a bias: out[t·rows + r] = Σ_c x[t·cols + c] · W[r, c] (+ bias[r]).
 *
 * Weights are dequantized PANEL rows at a time (dequantize_row_* of kernels/ref), so a quantized
 * matrix is never expanded whole; each panel is reused for every token while it is in cache, and
 * tokens go four at a time so a weight row is read once per four dot products. The dot products
 * are accumulated in float64 and rounded once (more exact than ggml's float lanes; the fast path
 * is tested against this within a stated tolerance).
 */
import { checkWeight, dequantizeRows, type WeightMatrix } from './weight-matrix.ts';

/** Rows per dequantized panel: 16 rows × 4096 floats = 256 KiB, about an L2. */
const PANEL_FLOATS = 65536;

export function panelRows(cols: number): number {
  return Math.max(1, Math.floor(PANEL_FLOATS / cols));
}

export function checkMatmulArgs(x: Float32Array, nTokens: number, w: WeightMatrix, out: Float32Array, bias?: Float32Array): void {
  if (!Number.isInteger(nTokens) || nTokens < 0) throw new RangeError(`matmul: nTokens must be a non-negative integer, got ${nTokens}`);
  if (x.length < nTokens * w.cols) throw new RangeError(`matmul: x has ${x.length} floats, needs ${nTokens}×${w.cols}`);
  if (out.length < nTokens * w.rows) throw new RangeError(`matmul: out has ${out.length} floats, needs ${nTokens}×${w.rows}`);
  if (bias && bias.length < w.rows) throw new RangeError(`matmul: bias has ${bias.length} floats, needs ${w.rows}`);
  checkWeight(w);
}

/** Rows [r0, r1) of the product, dequantizing into `panel` (≥ panelRows(cols) × cols floats). */
export function matmulRowsRef(x: Float32Array, nTokens: number, w: WeightMatrix, out: Float32Array, bias: Float32Array | undefined, r0: number, r1: number, panel: Float32Array): void {
  const { cols, rows } = w;
  const step = panelRows(cols);
  for (let p0 = r0; p0 < r1; p0 += step) {
    const pr = Math.min(step, r1 - p0);
    dequantizeRows(w, p0, pr, panel);
    let t = 0;
    for (; t + 4 <= nTokens; t += 4) {
      const x0 = t * cols, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
      for (let i = 0; i < pr; i++) {
        const wo = i * cols;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (let c = 0; c < cols; c++) {
          const wv = panel[wo + c]!;
          s0 += wv * x[x0 + c]!; s1 += wv * x[x1 + c]!; s2 += wv * x[x2 + c]!; s3 += wv * x[x3 + c]!;
        }
        const r = p0 + i;
        const b = bias ? bias[r]! : 0;
        // Rounded to f32 first, then the bias added in f32, as ggml_add does after mul_mat.
        out[t * rows + r] = Math.fround(s0) + b;
        out[(t + 1) * rows + r] = Math.fround(s1) + b;
        out[(t + 2) * rows + r] = Math.fround(s2) + b;
        out[(t + 3) * rows + r] = Math.fround(s3) + b;
      }
    }
    for (; t < nTokens; t++) {
      const x0 = t * cols;
      for (let i = 0; i < pr; i++) {
        const wo = i * cols;
        let s = 0;
        for (let c = 0; c < cols; c++) s += panel[wo + c]! * x[x0 + c]!;
        const r = p0 + i;
        out[t * rows + r] = Math.fround(s) + (bias ? bias[r]! : 0);
      }
    }
  }
}

export function matmulRef(x: Float32Array, nTokens: number, w: WeightMatrix, out: Float32Array, bias?: Float32Array): void {
  checkMatmulArgs(x, nTokens, w, out, bias);
  const panel = new Float32Array(panelRows(w.cols) * w.cols);
  matmulRowsRef(x, nTokens, w, out, bias, 0, w.rows, panel);
}
