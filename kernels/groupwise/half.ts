/**
 * fp16 rounding for the solvers. Scales are stored as fp16 and the upstream quantizers compute
 * codes with the fp16 value, so every scale goes through `roundToHalf` before zeros and codes.
 * Delegates to the shared ggml-exact conversions (round-to-nearest-even, subnormals kept).
 */
import { fp16ToFp32, fp32ToFp16 } from '../fp16.ts';

export const toHalfBits = fp32ToFp16;
export const fromHalfBits = fp16ToFp32;

/** `x` rounded to the nearest fp16 value, as a number. */
export function roundToHalf(x: number): number {
  return fp16ToFp32(fp32ToFp16(x));
}
