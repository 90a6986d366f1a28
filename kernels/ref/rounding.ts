/**
 * The scalar primitives of ggml-quants.c, emulated exactly in JS doubles.
 *
 * ggml-base is built without FMA or -ffast-math, so every C `float` operation is one IEEE binary32
 * operation. A double operation on two binary32 inputs rounded once with `Math.fround` gives that
 * same result, so the ports wrap every `+ - * / sqrt` in `F`.
 */
export const F = Math.fround;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * `nearest_int` (ggml-quants.c): adds 1.5·2^23 in binary32 and reads the low mantissa bits, which is
 * round-half-to-even for |x| ≤ 4194303. Outside that range (and for NaN/Inf) the C code wraps; we
 * reproduce the bit trick there so even absurd inputs give the same codes.
 */
export function nearestInt(x: number): number {
  // In range, adding 1.5·2^52 in double rounds to an integer half-to-even, the same integer the
  // binary32 trick yields (both round x itself once, to the nearest integer, ties to even).
  if (x <= 4194303 && x >= -4194303) return (x + 6755399441055744 - 6755399441055744) | 0;
  f32[0] = x + 12582912;
  return (u32[0]! & 0x7fffff) - 0x400000;
}

/** `roundf`: half away from zero, computed in double on the binary32 input (no F on x ± 0.5). */
export function roundf(x: number): number {
  return x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5);
}

/**
 * x86-64 `cvttss2si`: truncation toward zero to int32; NaN and out-of-range give 0x80000000.
 * gcc lowers `(int8_t)f` and `(uint8_t)f` to this and keeps the low byte.
 */
export function cvttToInt32(x: number): number {
  return x > -2147483649 && x < 2147483648 ? Math.trunc(x) | 0 : -2147483648;
}

/** `(int8_t)f` in C on x86-64. */
export function floatToInt8(x: number): number {
  return (cvttToInt32(x) << 24) >> 24;
}

/** `(uint8_t)f` in C on x86-64. */
export function floatToUint8(x: number): number {
  return cvttToInt32(x) & 255;
}

/** `(int8_t)i`: two's-complement wrap of an int. */
export function toInt8(i: number): number {
  return (i << 24) >> 24;
}

/** `MAX(lo, MIN(hi, l))` for an int l (the C macros' NaN subtleties cannot arise on ints). */
export function clampInt(l: number, lo: number, hi: number): number {
  return l < lo ? lo : l > hi ? hi : l;
}
