/**
 * GPTQ round-to-nearest: AutoGPTQ `Quantizer.find_params` (perchannel, mse off) applied per group,
 * codes as in `quantize()`. The range always contains 0:
 *   xmin = min(min, 0); xmax = max(max, 0); sym: xmax = max(|xmin|, xmax), xmin = -xmax if xmin < 0
 *   xmin == xmax == 0 -> [-1, 1];  s = (xmax - xmin) / maxq;  z = 2^(b-1) if sym else round(-xmin / s)
 * The scale is rounded to fp16 first (AutoGPTQ's packer recomputes codes with fp16 scales).
 *
 * `v1SafeZero` (default true): GPTQ v1 stores z-1 and cannot hold z = 0 (reference §2.2). Upstream
 * would emit it for an asymmetric group with no negative weights; we instead use z = 1 and
 * s = xmax / (maxq - 1), which still covers [0, xmax] with error <= s/2.
 */
import { roundHalfEven } from './round.ts';
import { roundToHalf } from '../fp16.ts';
import { checkSpec, maxCode, type CalibrationStats, type GroupwiseSolver, type GroupwiseSpec, type QuantizedMatrix } from './spec.ts';
import { solverGroupIndex } from './groups.ts';
import { MIN_HALF_SCALE, quantizeByGroups, type FitGroup } from './rtn.ts';

export function gptqFit(spec: GroupwiseSpec, v1SafeZero = true): FitGroup {
  const maxq = maxCode(spec.bits);
  const half = 1 << (spec.bits - 1);
  const toScale = (x: number) => Math.max(roundToHalf(Math.fround(x)), MIN_HALF_SCALE);
  return (min, max) => {
    let xmin = Math.min(min, 0);
    let xmax = Math.max(max, 0);
    if (spec.sym) {
      xmax = Math.max(Math.abs(xmin), xmax);
      if (xmin < 0) xmin = -xmax;
    }
    if (xmin === 0 && xmax === 0) { xmin = -1; xmax = 1; }
    let scale = toScale(Math.fround(xmax - xmin) / maxq);
    if (spec.sym) return { scale, zero: half };
    let zero = roundHalfEven(Math.fround(-xmin / scale));
    if (zero > maxq) zero = maxq;
    if (zero < 1 && v1SafeZero) {
      scale = toScale(xmax / (maxq - 1));
      zero = 1;
    }
    return { scale, zero };
  };
}

export function gptqRtnSolver(opts: { v1SafeZero?: boolean } = {}): GroupwiseSolver {
  const v1SafeZero = opts.v1SafeZero ?? true;
  return {
    name: 'gptq-rtn',
    quantize(weight: Float32Array, rows: number, cols: number, spec: GroupwiseSpec, stats?: CalibrationStats): QuantizedMatrix {
      checkSpec(spec, cols);
      const gIdx = solverGroupIndex(weight, rows, cols, spec, stats?.importance);
      return quantizeByGroups(weight, rows, cols, spec, gIdx, gptqFit(spec, v1SafeZero));
    },
  };
}
