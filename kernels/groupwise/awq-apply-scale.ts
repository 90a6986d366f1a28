/**
 * AutoAWQ `apply_scale` (awq/quantize/scale.py), which folds a searched scale vector s into the
 * op before the scaled linears so the network computes the same function:
 *   scale_ln_fcs: norm.weight /= s (and bias), each fc.weight[:, c] *= s[c]
 *   scale_fc_fc:  fc1.weight[-len(s):, :] /= s[:, None] (and fc1.bias[-len(s):]), fc2.weight[:, c] *= s[c]
 * and divides the cached inputs of the scaled linears by s, ready for the clip search.
 * All in place, in float32. (Gemma's (1 + w) norms are not handled: no such arch reaches AWQ.)
 */

/** w[:, c] *= s[c] for a `[rows, cols]` weight. */
export function scaleColumns(w: Float32Array, rows: number, cols: number, s: Float32Array): void {
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) w[r * cols + c] = Math.fround(w[r * cols + c]! * s[c]!);
}

/** v[i] /= s[i] (a norm weight or a bias). When v is longer, its last s.length entries (upstream slices fc1's last rows). */
export function divideTail(v: Float32Array, s: Float32Array): void {
  const o = v.length - s.length;
  if (o < 0) throw new RangeError(`cannot divide ${v.length} values by ${s.length} scales`);
  for (let i = 0; i < s.length; i++) v[o + i] = Math.fround(v[o + i]! / s[i]!);
}

/** fc1.weight[-len(s):, :] /= s[:, None] for a `[rows, cols]` weight. */
export function divideLastRows(w: Float32Array, rows: number, cols: number, s: Float32Array): void {
  const r0 = rows - s.length;
  if (r0 < 0) throw new RangeError(`cannot divide ${rows} rows by ${s.length} scales`);
  for (let i = 0; i < s.length; i++) {
    const o = (r0 + i) * cols;
    for (let c = 0; c < cols; c++) w[o + c] = Math.fround(w[o + c]! / s[i]!);
  }
}

/** x[t, c] /= s[c] for activations `[nTokens, cols]`. */
export function divideColumns(x: Float32Array, nTokens: number, cols: number, s: Float32Array): void {
  for (let t = 0; t < nTokens; t++) for (let c = 0; c < cols; c++) x[t * cols + c] = Math.fround(x[t * cols + c]! / s[c]!);
}
