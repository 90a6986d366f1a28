/**
 * The two per-input-channel statistics of AutoAWQ `AwqQuantizer._search_best_scale`:
 *   x_mean[c] = Σ_tokens |x[t, c]| / n_tokens     (float32 sums upstream; we sum in float64)
 *   w_mean[c] = mean over the rows of all scaled linears of |W[r, c]| / (max|W| of c's group in row r + 1e-6)
 * Upstream casts both back to the model dtype (fp16); `half` (default true) does the same.
 */
import { roundToHalf } from '../fp16.ts';

/** x_mean accumulated over batches of activations (the calibration loop sees sub-batches). */
export class AbsMeanAccumulator {
  private readonly sum: Float64Array;
  private tokens = 0;
  constructor(readonly cols: number) {
    this.sum = new Float64Array(cols);
  }

  add(x: Float32Array, nTokens: number): void {
    const { cols, sum } = this;
    if (x.length < nTokens * cols) throw new RangeError(`activations hold ${x.length} values, expected ${nTokens}x${cols}`);
    for (let t = 0; t < nTokens; t++) {
      const o = t * cols;
      for (let c = 0; c < cols; c++) sum[c] += Math.abs(x[o + c]!);
    }
    this.tokens += nTokens;
  }

  result(half = true): Float32Array {
    const out = new Float32Array(this.cols);
    for (let c = 0; c < this.cols; c++) out[c] = half ? roundToHalf(Math.fround(this.sum[c]! / this.tokens)) : this.sum[c]! / this.tokens;
    return out;
  }
}

/** x_mean of activations `x` (`[nTokens, cols]` row-major). */
export function meanAbsActivation(x: Float32Array, nTokens: number, cols: number, half = true): Float32Array {
  const acc = new AbsMeanAccumulator(cols);
  acc.add(x, nTokens);
  return acc.result(half);
}

/** A linear's weight `[rows, cols]` (nn.Linear order). */
export interface LinearWeight {
  data: Float32Array;
  rows: number;
}

/** w_mean over the row-wise concatenation of `linears` (all with `cols` inputs). groupSize -1 = whole rows. */
export function groupNormalizedWeightMean(linears: readonly LinearWeight[], cols: number, groupSize: number, half = true): Float32Array {
  const gs = groupSize === -1 ? cols : groupSize;
  const sum = new Float64Array(cols);
  let totalRows = 0;
  for (const { data, rows } of linears) {
    if (data.length !== rows * cols) throw new RangeError(`weight has ${data.length} values, expected ${rows}x${cols}`);
    totalRows += rows;
    for (let r = 0; r < rows; r++) {
      for (let c0 = 0; c0 < cols; c0 += gs) {
        const lo = r * cols + c0, hi = r * cols + Math.min(cols, c0 + gs);
        let amax = 0;
        for (let k = lo; k < hi; k++) amax = Math.max(amax, Math.abs(data[k]!));
        const d = amax + 1e-6;
        for (let k = lo; k < hi; k++) sum[k - r * cols] += Math.abs(data[k]!) / d;
      }
    }
  }
  const out = new Float32Array(cols);
  for (let c = 0; c < cols; c++) out[c] = half ? roundToHalf(Math.fround(sum[c]! / totalRows)) : sum[c]! / totalRows;
  return out;
}
