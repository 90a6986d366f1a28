/**
 * AWQ round-to-nearest: the quantizer of AutoAWQ `AwqQuantizer.pseudo_quantize_tensor`.
 * zero_point=true (asymmetric, the default and the only form WQLinear_GEMM stores):
 *   s = clamp(max - min, 1e-5) / maxq;  z = clamp(-round(min / s), 0, maxq)
 * zero_point=false (symmetric): s = clamp(max|w|, 1e-5) / (2^(b-1) - 1), codes round(w/s) in
 *   [-2^(b-1), 2^(b-1)-1]; we store them offset by z = 2^(b-1) so GEMM can hold them.
 * The scale is rounded to fp16 before zeros and codes, as upstream computes them in fp16.
 */
import { roundHalfEven } from './round.ts';
import { roundToHalf } from '../fp16.ts';
import { checkSpec, maxCode, type CalibrationStats, type GroupwiseSolver, type GroupwiseSpec, type QuantizedMatrix } from './spec.ts';
import { solverGroupIndex } from './groups.ts';
import { MIN_HALF_SCALE, quantizeByGroups, type FitGroup } from './rtn.ts';

export function awqFit(spec: GroupwiseSpec): FitGroup {
  const maxq = maxCode(spec.bits);
  if (spec.sym) {
    const half = 1 << (spec.bits - 1);
    return (_min, _max, absMax) => {
      const scale = Math.max(roundToHalf(Math.fround(Math.max(absMax, 1e-5) / (half - 1))), MIN_HALF_SCALE);
      return { scale, zero: half };
    };
  }
  return (min, max) => {
    const scale = Math.max(roundToHalf(Math.fround(Math.max(Math.fround(max - min), 1e-5) / maxq)), MIN_HALF_SCALE);
    const z = -roundHalfEven(Math.fround(min / scale));
    return { scale, zero: z < 0 ? 0 : z > maxq ? maxq : z };
  };
}

export const awqRtnSolver: GroupwiseSolver = {
  name: 'awq-rtn',
  quantize(weight: Float32Array, rows: number, cols: number, spec: GroupwiseSpec, stats?: CalibrationStats): QuantizedMatrix {
    checkSpec(spec, cols);
    const gIdx = solverGroupIndex(weight, rows, cols, spec, stats?.importance);
    return quantizeByGroups(weight, rows, cols, spec, gIdx, awqFit(spec));
  },
};
