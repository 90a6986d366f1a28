/**
 * The per-element weights the `quantize_row_*_impl` paths of ggml-quants.c derive from an importance
 * matrix: w[j] = qw[j]·sqrtf(σ² + x[j]²), where σ² is a mean of x² over the row or super-block (the
 * callers differ in the span and in a factor 2). All binary32.
 */
import { F } from './rounding.ts';

/** `for (j) sum += x[j]*x[j]` in binary32 over x[off..off+n). */
export function sumSquares(x: Float32Array, off: number, n: number): number {
  let s = 0;
  for (let j = 0; j < n; j++) { const v = x[off + j]!; s = F(s + F(v * v)); }
  return s;
}

/** w[wOff + j] = qw[qwOff + j] · sqrtf(sigma2 + x[xOff + j]²) for j < n. */
export function importanceWeights(
  x: Float32Array, xOff: number, qw: Float32Array, qwOff: number, sigma2: number, n: number, w: Float64Array, wOff: number,
): void {
  for (let j = 0; j < n; j++) {
    const v = x[xOff + j]!;
    w[wOff + j] = F(qw[qwOff + j]! * F(Math.sqrt(F(sigma2 + F(v * v)))));
  }
}
