// Small SIMD helpers shared by the kernels. Every f32x4 op is four independent IEEE binary32 ops
// with RNE, so a lane computes exactly what the scalar C code computes for its element.

/** Four `nearest_int`s: the 1.5·2^23 magic add, then the low mantissa bits. */
// @ts-ignore: decorator
@inline export function nearest4(v: v128): v128 {
  const t = f32x4.add(v, f32x4.splat(12582912.0));
  return i32x4.sub(v128.and(t, i32x4.splat(0x007fffff)), i32x4.splat(0x00400000));
}

/** C `MAX(lo, MIN(hi, l))` per lane. */
// @ts-ignore: decorator
@inline export function clamp4(l: v128, lo: i32, hi: i32): v128 {
  return i32x4.max_s(i32x4.min_s(l, i32x4.splat(hi)), i32x4.splat(lo));
}

/** Stores the low byte of each i32 lane (values already in 0..255) as 4 consecutive bytes. */
// @ts-ignore: decorator
@inline export function storeBytes4(p: usize, l: v128): void {
  const b = i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_s(l, l), l);
  store<u32>(p, i32x4.extract_lane(b, 0));
}

/**
 * Transposes 4 runs of n floats (run k at x + k·stride bytes) into n vectors at out:
 * lane k of vector i is element i of run k. n is a multiple of 4.
 */
export function transpose4(x: usize, stride: usize, n: i32, out: usize): void {
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    const a = v128.load(x + o), b = v128.load(x + stride + o);
    const c = v128.load(x + 2 * stride + o), d = v128.load(x + 3 * stride + o);
    const t0 = i32x4.shuffle(a, b, 0, 4, 1, 5), t1 = i32x4.shuffle(a, b, 2, 6, 3, 7);
    const t2 = i32x4.shuffle(c, d, 0, 4, 1, 5), t3 = i32x4.shuffle(c, d, 2, 6, 3, 7);
    const p = out + (<usize>i << 4);
    v128.store(p, i32x4.shuffle(t0, t2, 0, 1, 4, 5));
    v128.store(p, i32x4.shuffle(t0, t2, 2, 3, 6, 7), 16);
    v128.store(p, i32x4.shuffle(t1, t3, 0, 1, 4, 5), 32);
    v128.store(p, i32x4.shuffle(t1, t3, 2, 3, 6, 7), 48);
  }
}

/** The inverse for byte codes: lane k of i32 vector i → byte L[k·n + i] (n a multiple of 4). */
export function scatterCodes4(lt: usize, n: i32, L: usize): void {
  for (let i = 0; i < n; i += 4) {
    const p = lt + (<usize>i << 4);
    const a = v128.load(p), b = v128.load(p, 16), c = v128.load(p, 32), d = v128.load(p, 48);
    const t0 = i32x4.shuffle(a, b, 0, 4, 1, 5), t1 = i32x4.shuffle(a, b, 2, 6, 3, 7);
    const t2 = i32x4.shuffle(c, d, 0, 4, 1, 5), t3 = i32x4.shuffle(c, d, 2, 6, 3, 7);
    storeBytes4(L + i, i32x4.shuffle(t0, t2, 0, 1, 4, 5));
    storeBytes4(L + n + i, i32x4.shuffle(t0, t2, 2, 3, 6, 7));
    storeBytes4(L + 2 * n + i, i32x4.shuffle(t1, t3, 0, 1, 4, 5));
    storeBytes4(L + 3 * n + i, i32x4.shuffle(t1, t3, 2, 3, 6, 7));
  }
}
