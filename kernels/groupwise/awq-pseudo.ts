/**
 * AutoAWQ `AwqQuantizer.pseudo_quantize_tensor` (w_bit, q_group_size, zero_point) as a fake
 * quantizer: every (row, group) of W becomes `(clamp(round(w/s) + z, 0, maxq) - z) * s`, with
 * s and z from `awqFit` (fp16 scale, as upstream computes in fp16). The scale and clip searches
 * use it, and it is exactly what the written checkpoint decodes to (the same fit and code rule as
 * `awqRtnSolver`), so the searched-for loss is the loss of the file.
 *
 * Groups are contiguous column ranges; a last partial group (in % group_size != 0) is quantized
 * on its own, where upstream asserts divisibility.
 */
import { maxCode, type GroupwiseSpec } from './spec.ts';
import { awqFit } from './rtn-awq.ts';
import type { FitGroup } from './rtn.ts';

/** Fake-quantize `src[lo, hi)` into `dst[lo, hi)` (may be the same array) as one group. */
export function pseudoQuantizeRange(src: Float32Array, dst: Float32Array, lo: number, hi: number, fit: FitGroup, maxq: number): void {
  let min = Infinity, max = -Infinity;
  for (let k = lo; k < hi; k++) {
    const w = src[k]!;
    if (w < min) min = w;
    if (w > max) max = w;
  }
  const { scale, zero } = fit(min, max, Math.max(Math.abs(min), Math.abs(max)));
  for (let k = lo; k < hi; k++) {
    const x = Math.fround(src[k]! / scale);
    let q = Math.round(x);
    if (q - x === 0.5 && (q & 1) !== 0) q--; // round half to even, as torch.round
    q += zero;
    q = q < 0 ? 0 : q > maxq ? maxq : q;
    dst[k] = Math.fround((q - zero) * scale);
  }
}

/** Q(W) for a `[rows, cols]` weight: a new array unless `out` is given (may be `weight`). */
export function awqPseudoQuantize(weight: Float32Array, rows: number, cols: number, spec: GroupwiseSpec, out = new Float32Array(rows * cols)): Float32Array {
  if (weight.length !== rows * cols) throw new RangeError(`weight has ${weight.length} values, expected ${rows}x${cols}`);
  const fit = awqFit(spec);
  const maxq = maxCode(spec.bits);
  const gs = spec.groupSize === -1 ? cols : spec.groupSize;
  for (let r = 0; r < rows; r++) {
    for (let c0 = 0; c0 < cols; c0 += gs) pseudoQuantizeRange(weight, out, r * cols + c0, r * cols + Math.min(cols, c0 + gs), fit, maxq);
  }
  return out;
}
