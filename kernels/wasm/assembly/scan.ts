// A NaN/±Inf finder for the pipeline's input check, run by the workers on data they are copying
// anyway: an all-ones exponent marks a non-finite binary32. 16 floats per step with one branch
// (the test itself is 2 lane ops); a step that holds one is searched again float by float.

/** Index of the first non-finite float among n at x, or -1. */
export function firstNonFinite(x: usize, n: i32): i32 {
  const exp = i32x4.splat(0x7f800000);
  const n16 = n & ~15;
  let i = 0;
  for (; i < n16; i += 16) {
    const p = x + (<usize>i << 2);
    const a = i32x4.eq(v128.and(v128.load(p), exp), exp), b = i32x4.eq(v128.and(v128.load(p, 16), exp), exp);
    const c = i32x4.eq(v128.and(v128.load(p, 32), exp), exp), d = i32x4.eq(v128.and(v128.load(p, 48), exp), exp);
    if (v128.any_true(v128.or(v128.or(a, b), v128.or(c, d)))) break;
  }
  for (; i < n; i++) {
    if ((load<u32>(x + (<usize>i << 2)) & 0x7f800000) == 0x7f800000) return i;
  }
  return -1;
}
