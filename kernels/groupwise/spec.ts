/**
 * The shared vocabulary of group-wise integer quantization (AWQ, GPTQ): what a solver is asked
 * for, and the integer codes, scales and zero points it returns. Packers and dequantizers consume
 * `QuantizedMatrix`; solvers produce it, so a calibrated AWQ or GPTQ solver can replace RTN later
 * without touching the layouts.
 *
 * Orientation follows nn.Linear: a weight is `[out = rows, in = cols]`, groups run along `in`.
 * Dequantization is always `w = (q - z) * s`.
 */

export type GroupBits = 2 | 3 | 4 | 8;
export const GROUP_BITS: readonly GroupBits[] = [2, 3, 4, 8];

export interface GroupwiseSpec {
  bits: GroupBits;
  /** Columns per group along `in`; -1 = one group per output channel (per-channel). */
  groupSize: number;
  /** Symmetric: fixed zero point 2^(bits-1). */
  sym: boolean;
  /** Act-order: groups formed from columns in descending importance, giving a scattered g_idx. */
  descAct?: boolean;
}

export interface QuantizedMatrix {
  rows: number; // out_features
  cols: number; // in_features
  bits: GroupBits;
  groupSize: number;
  /** Number of groups G. */
  groups: number;
  /** Unsigned codes in [0, 2^bits - 1], `[rows, cols]` row-major (nn.Linear order). */
  codes: Uint8Array;
  /** Group scales, `[G, rows]`; every value is exactly representable in fp16. */
  scales: Float32Array;
  /** True zero points, `[G, rows]` (a GPTQ v1 reader can decode 2^bits, hence 16 bits). */
  zeros: Uint16Array;
  /** Group of each input column, `[cols]`. */
  gIdx: Int32Array;
}

/** Optional calibration statistics a calibrated solver uses; RTN ignores all but `importance`. */
export interface CalibrationStats {
  /** Per-input-column importance, e.g. diag(H) = Σx² (GPTQ act-order sorts by it, descending). */
  importance?: Float32Array;
  /** Mean |x| per input column (AWQ scale search). */
  meanAbsActivation?: Float32Array;
}

/** A pluggable quantizer: weights (+ optional statistics) in, codes, scales and zeros out. */
export interface GroupwiseSolver {
  readonly name: string;
  quantize(weight: Float32Array, rows: number, cols: number, spec: GroupwiseSpec, stats?: CalibrationStats): QuantizedMatrix;
}

export function maxCode(bits: GroupBits): number {
  return (1 << bits) - 1;
}

/** Throws RangeError for a spec no packer can hold (a programmer mistake; the CLI checks first). */
export function checkSpec(spec: GroupwiseSpec, cols: number): void {
  if (!GROUP_BITS.includes(spec.bits)) throw new RangeError(`bits must be 2, 3, 4 or 8, got ${spec.bits}`);
  if (spec.groupSize !== -1 && !(Number.isInteger(spec.groupSize) && spec.groupSize > 0)) {
    throw new RangeError(`group size must be -1 or a positive integer, got ${spec.groupSize}`);
  }
  if (!(Number.isInteger(cols) && cols > 0)) throw new RangeError(`in_features must be positive, got ${cols}`);
}

/** G = ceil(in / group_size) (AutoGPTQ), or 1 per-channel. */
export function groupCount(groupSize: number, cols: number): number {
  return groupSize === -1 ? 1 : Math.ceil(cols / groupSize);
}
