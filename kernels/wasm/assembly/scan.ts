// A NaN/±Inf finder for the pipeline's input check, run by the workers on data they are copying
// anyway: an all-ones exponent marks a non-finite binary32, 4 lanes at a time.

/** Index of the first non-finite float among n at x, or -1. */
export function firstNonFinite(x: usize, n: i32): i32 {
  const exp = i32x4.splat(0x7f800000);
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    const bits = i32x4.bitmask(i32x4.eq(v128.and(v, exp), exp));
    if (bits != 0) return i + ctz(bits);
  }
  for (let i = n4; i < n; i++) {
    if ((load<u32>(x + (<usize>i << 2)) & 0x7f800000) == 0x7f800000) return i;
  }
  return -1;
}
