/**
 * The round-trip error bound of group-wise RTN (shared by the groupwise/AWQ/GPTQ tests).
 *
 * Derivation. Let s be the stored fp16 scale and c = clamp(round(w/s) + z, 0, maxq). Unclamped,
 * |w - (c - z)s| <= s/2 (round to nearest), plus float32 slop of 2^-24|w| in w/s and in the product.
 * Every formula puts the group's range inside the grid [(0 - z)s, (maxq - z)s] widened by s/2 when
 * the group holds both signs: AWQ (z = round(-min/s), max = min + maxq*s), GPTQ asym (same on the
 * range stretched to include 0), GPTQ sym (s = 2*amax/maxq, so amax = (maxq/2)s sits exactly half a
 * step past the top code 2^(b-1)-1), AWQ sym (amax = (2^(b-1)-1)s). Rounding the scale to fp16
 * moves s by at most 2^-11 relative, which shifts a grid end by at most maxq*2^-11*s. So for
 * mixed-sign groups:  |w - ŵ| <= s * (0.5 + maxq * 2^-11) + 2^-22 |w|.
 * Exceptions (clipping): a group of one sign where the formula pins z (AWQ clamps z to 0 or maxq;
 * GPTQ sym with no negative weight keeps xmin = 0 yet z = 2^(b-1)). There the clipped weights
 * saturate at code 0 or maxq and dequantize to the grid end nearest to them.
 */
import type { QuantizedMatrix } from '../kernels/groupwise/spec.ts';
import { dequantizeRows } from '../kernels/groupwise/dequantize.ts';

export interface BoundCheck {
  /** Largest |w - ŵ| / s over unclipped elements. */
  maxErrOverScale: number;
  clipped: number;
  /** Elements violating the bound (should be empty). */
  violations: string[];
  /** Root-mean-square error and relative Frobenius error, for the report. */
  rmse: number;
  relFrobenius: number;
}

export function checkRtnBound(w: Float32Array, m: QuantizedMatrix): BoundCheck {
  const deq = dequantizeRows(m);
  const maxq = (1 << m.bits) - 1;
  const slack = maxq * 2 ** -11;
  const gMin = new Float64Array(m.groups * m.rows).fill(Infinity);
  const gMax = new Float64Array(m.groups * m.rows).fill(-Infinity);
  for (let n = 0; n < m.rows; n++) for (let k = 0; k < m.cols; k++) {
    const p = m.gIdx[k] * m.rows + n;
    const v = w[n * m.cols + k];
    if (v < gMin[p]) gMin[p] = v;
    if (v > gMax[p]) gMax[p] = v;
  }
  let maxErrOverScale = 0, clipped = 0, se = 0, sw = 0;
  const violations: string[] = [];
  for (let n = 0; n < m.rows; n++) for (let k = 0; k < m.cols; k++) {
    const i = n * m.cols + k;
    const p = m.gIdx[k] * m.rows + n;
    const s = m.scales[p], z = m.zeros[p];
    const err = Math.abs(w[i] - deq[i]);
    se += err * err; sw += w[i] * w[i];
    const bound = s * (0.5 + slack) + 2 ** -22 * Math.abs(w[i]) + 1e-12;
    if (err <= bound) { maxErrOverScale = Math.max(maxErrOverScale, err / s); continue; }
    const mixed = gMin[p] < 0 && gMax[p] > 0;
    const low = (0 - z) * s, high = (maxq - z) * s;
    const saturated = (m.codes[i] === 0 && w[i] < low && deq[i] === Math.fround(low))
      || (m.codes[i] === maxq && w[i] > high && deq[i] === Math.fround(high));
    if (!mixed && saturated) { clipped++; continue; }
    if (violations.length < 5) violations.push(`row ${n} col ${k}: w=${w[i]} ŵ=${deq[i]} s=${s} z=${z} err/s=${err / s}`);
  }
  return { maxErrOverScale, clipped, violations, rmse: Math.sqrt(se / w.length), relFrobenius: Math.sqrt(se / sw) };
}
