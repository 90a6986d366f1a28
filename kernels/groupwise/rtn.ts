/**
 * Round-to-nearest driver shared by the AWQ and GPTQ RTN solvers: for every (output row, group)
 * it asks a `fit` rule for the fp16 scale and the zero point from the group's min/max, then codes
 * every weight as `clamp(round(w / s) + z, 0, maxq)` — the code formula of AutoAWQ
 * `pseudo_quantize_tensor` and AutoGPTQ `quantize()`, with float32 division and round-half-even.
 */
import { roundHalfEven } from './round.ts';
import { groupCount, maxCode, type GroupwiseSpec, type QuantizedMatrix } from './spec.ts';
import { groupMembers } from './groups.ts';

/** Scale (already fp16-exact, > 0) and true zero point of one group of one row. */
export type FitGroup = (min: number, max: number, absMax: number) => { scale: number; zero: number };

export function quantizeByGroups(
  weight: Float32Array, rows: number, cols: number, spec: GroupwiseSpec, gIdx: Int32Array, fit: FitGroup,
): QuantizedMatrix {
  if (weight.length !== rows * cols) throw new RangeError(`weight has ${weight.length} values, expected ${rows}x${cols}`);
  const G = groupCount(spec.groupSize, cols);
  const maxq = maxCode(spec.bits);
  const members = groupMembers(gIdx, spec.groupSize);
  const codes = new Uint8Array(rows * cols);
  const scales = new Float32Array(G * rows);
  const zeros = new Uint16Array(G * rows);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let g = 0; g < G; g++) {
      const cols_g = members[g];
      let min = Infinity, max = -Infinity;
      for (let i = 0; i < cols_g.length; i++) {
        const w = weight[o + cols_g[i]];
        if (w < min) min = w;
        if (w > max) max = w;
      }
      if (cols_g.length === 0) { min = 0; max = 0; }
      const { scale, zero } = fit(min, max, Math.max(Math.abs(min), Math.abs(max)));
      scales[g * rows + r] = scale;
      zeros[g * rows + r] = zero;
      for (let i = 0; i < cols_g.length; i++) {
        const k = o + cols_g[i];
        const q = roundHalfEven(Math.fround(weight[k] / scale)) + zero;
        codes[k] = q < 0 ? 0 : q > maxq ? maxq : q;
      }
    }
  }
  return { rows, cols, bits: spec.bits, groupSize: spec.groupSize, groups: G, codes, scales, zeros, gIdx };
}

/** Smallest positive fp16 (subnormal): a scale that rounded to 0 in fp16 would divide by zero. */
export const MIN_HALF_SCALE = 2 ** -24;
