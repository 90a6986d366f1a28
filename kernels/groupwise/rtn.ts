/**
 * Round-to-nearest driver shared by the AWQ and GPTQ RTN solvers: for every (output row, group)
 * it asks a `fit` rule for the fp16 scale and the zero point from the group's min/max, then codes
 * every weight as `clamp(round(w / s) + z, 0, maxq)` — the code formula of AutoAWQ
 * `pseudo_quantize_tensor` and AutoGPTQ `quantize()`, with float32 division and round-half-even.
 */
import { roundHalfEven } from './round.ts';
import { groupCount, maxCode, type GroupwiseSpec, type QuantizedMatrix } from './spec.ts';
import { groupMembers, trivialGroupIndex } from './groups.ts';

/** Scale (already fp16-exact, > 0) and true zero point of one group of one row. */
export type FitGroup = (min: number, max: number, absMax: number) => { scale: number; zero: number };

export function quantizeByGroups(
  weight: Float32Array, rows: number, cols: number, spec: GroupwiseSpec, gIdx: Int32Array, fit: FitGroup,
): QuantizedMatrix {
  if (weight.length !== rows * cols) throw new RangeError(`weight has ${weight.length} values, expected ${rows}x${cols}`);
  const G = groupCount(spec.groupSize, cols);
  const maxq = maxCode(spec.bits);
  const codes = new Uint8Array(rows * cols);
  const scales = new Float32Array(G * rows);
  const zeros = new Uint16Array(G * rows);
  const fitInto = (r: number, g: number, min: number, max: number) => {
    const { scale, zero } = fit(min, max, Math.max(Math.abs(min), Math.abs(max)));
    scales[g * rows + r] = scale;
    zeros[g * rows + r] = zero;
    return { scale, zero };
  };
  // code = clamp(round_half_even(fround(w / s)) + z, 0, maxq), inlined in both loops for speed
  if (isContiguous(gIdx, spec.groupSize)) {
    // groups are column ranges: sequential access, no member lists
    const gs = spec.groupSize === -1 ? cols : spec.groupSize;
    for (let r = 0; r < rows; r++) {
      for (let g = 0; g < G; g++) {
        const lo = r * cols + g * gs, hi = lo + Math.min(gs, cols - g * gs);
        let min = Infinity, max = -Infinity;
        for (let k = lo; k < hi; k++) {
          const w = weight[k]!;
          if (w < min) min = w;
          if (w > max) max = w;
        }
        const { scale, zero } = fitInto(r, g, min, max);
        for (let k = lo; k < hi; k++) {
          const x = Math.fround(weight[k]! / scale);
          let q = Math.round(x);
          if (q - x === 0.5 && (q & 1) !== 0) q--;
          q += zero;
          codes[k] = q < 0 ? 0 : q > maxq ? maxq : q;
        }
      }
    }
  } else {
    const members = groupMembers(gIdx, spec.groupSize);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      for (let g = 0; g < G; g++) {
        const m = members[g]!;
        let min = Infinity, max = -Infinity;
        for (let i = 0; i < m.length; i++) {
          const w = weight[o + m[i]!]!;
          if (w < min) min = w;
          if (w > max) max = w;
        }
        if (m.length === 0) { min = 0; max = 0; }
        const { scale, zero } = fitInto(r, g, min, max);
        for (let i = 0; i < m.length; i++) {
          const k = o + m[i]!;
          const q = roundHalfEven(Math.fround(weight[k]! / scale)) + zero;
          codes[k] = q < 0 ? 0 : q > maxq ? maxq : q;
        }
      }
    }
  }
  return { rows, cols, bits: spec.bits, groupSize: spec.groupSize, groups: G, codes, scales, zeros, gIdx };
}

/** Smallest positive fp16 (subnormal): a scale that rounded to 0 in fp16 would divide by zero. */
export const MIN_HALF_SCALE = 2 ** -24;

function isContiguous(gIdx: Int32Array, groupSize: number): boolean {
  const t = trivialGroupIndex(gIdx.length, groupSize);
  for (let k = 0; k < gIdx.length; k++) if (gIdx[k] !== t[k]) return false;
  return true;
}
