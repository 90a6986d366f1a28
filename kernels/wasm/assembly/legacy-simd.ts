// SIMD versions of the 32-element block quantizers (ggml-quants.c `quantize_row_q{8_0,4_0,4_1,5_0,5_1}_ref`).
// Each block's 32 values sit in 8 vectors; per-element work is lane-parallel and identical to the
// C expression. The reductions (amax, min, max) are order-independent except for NaN and signed
// zero, so those rare blocks are handed to the scalar port in legacy.ts, which follows C exactly.
import { fp32ToFp16 } from './numeric';
import { quantizeQ8_0, quantizeQ4_0, quantizeQ4_1, quantizeQ5_0, quantizeQ5_1 } from './legacy';

// @ts-ignore: decorator
@inline function vx(x: usize, k: i32): v128 { return v128.load(x + (<usize>k << 4)); }

// @ts-ignore: decorator
@inline function hmax(v: v128): f32 {
  const a = f32x4.pmax(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
  const b = f32x4.pmax(a, i32x4.shuffle(a, a, 1, 0, 3, 2));
  return f32x4.extract_lane(b, 0);
}

// @ts-ignore: decorator
@inline function hmin(v: v128): f32 {
  const a = f32x4.pmin(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
  const b = f32x4.pmin(a, i32x4.shuffle(a, a, 1, 0, 3, 2));
  return f32x4.extract_lane(b, 0);
}

/** True if any of the 32 values is NaN. */
// @ts-ignore: decorator
@inline function hasNaN(x: usize): bool {
  let m = f32x4.ne(vx(x, 0), vx(x, 0));
  for (let k = 1; k < 8; k++) m = v128.or(m, f32x4.ne(vx(x, k), vx(x, k)));
  return v128.any_true(m);
}

/**
 * C's `(int32_t)f` as gcc emits it on x86-64 (cvttps2dq): truncation, 0x80000000 for NaN and out
 * of range. trunc_sat saturates instead, so the invalid lanes are patched.
 */
// @ts-ignore: decorator
@inline function cvtt4(v: v128): v128 {
  const ok = v128.and(f32x4.ge(v, f32x4.splat(-2147483648.0)), f32x4.lt(v, f32x4.splat(2147483648.0)));
  return v128.bitselect(i32x4.trunc_sat_f32x4_s(v), i32x4.splat(0x80000000), ok);
}

/** `(int8_t)` of an int32: keep the low byte, sign-extended. */
// @ts-ignore: decorator
@inline function int8(v: v128): v128 { return i32x4.shr_s(i32x4.shl(v, 24), 24); }

/** Packs 4 i32x4 of byte values (0..255 or -128..127 as wanted) into 16 bytes. */
// @ts-ignore: decorator
@inline function bytes16u(a: v128, b: v128, c: v128, d: v128): v128 {
  return i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_s(a, b), i16x8.narrow_i32x4_s(c, d));
}

/**
 * The cheap float → int of small integers: for an integral float r with |r| < 2^22, r + 1.5·2^23
 * is exact and holds r in its low mantissa bits (as r + 0x400000). The kernels take this path for
 * a block only when every lane is known to be in range, else cvtt4 and int8 as C casts.
 */
// @ts-ignore: decorator
@inline function smallInt(r: v128): v128 {
  return i32x4.sub(f32x4.add(r, f32x4.splat(12582912.0)), i32x4.splat(0x4b400000));
}

/** True when all 32 lanes of the 8 vectors, read as u32, are below `limit` (floats: +0 ≤ v < the float with those bits; NaN and negatives fail). */
// @ts-ignore: decorator
@inline function allBelow(v0: v128, v1: v128, v2: v128, v3: v128, v4: v128, v5: v128, v6: v128, v7: v128, limit: u32): bool {
  const hi = i32x4.max_u(i32x4.max_u(i32x4.max_u(v0, v1), i32x4.max_u(v2, v3)), i32x4.max_u(i32x4.max_u(v4, v5), i32x4.max_u(v6, v7)));
  return i32x4.all_true(i32x4.lt_u(hi, i32x4.splat(limit)));
}

/** `roundf` of 4 lanes: half away from zero; v - trunc(v) is exact. */
// @ts-ignore: decorator
@inline function roundAway4(v: v128): v128 {
  const t = f32x4.trunc(v);
  const up = f32x4.ge(f32x4.abs(f32x4.sub(v, t)), f32x4.splat(0.5));
  const one = v128.or(v128.and(v, i32x4.splat(0x80000000)), f32x4.splat(1));
  return v128.bitselect(f32x4.add(t, one), t, up);
}

/** Q8_0 codes: `(int8_t)roundf(x*id)`; roundf is half away from zero and v - trunc(v) is exact. */
// @ts-ignore: decorator
@inline function q8(x: v128, idv: v128): v128 {
  return int8(cvtt4(roundAway4(f32x4.mul(x, idv))));
}

/** q8 for lanes with |x*id| < 127.5 (so roundf gives |r| ≤ 127: no cast patching, no int8 wrap). */
// @ts-ignore: decorator
@inline function q8Small(v: v128): v128 {
  return smallInt(roundAway4(v));
}

/** 16 codes (4 vectors of i32 in [-128, 127]) as bytes. */
// @ts-ignore: decorator
@inline function bytes16s(a: v128, b: v128, c: v128, d: v128): v128 {
  return i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(a, b), i16x8.narrow_i32x4_s(c, d));
}

export function quantizeQ8_0Simd(x: usize, y: usize, nb: i32): void {
  for (let i = 0; i < nb; i++, x += 128, y += 34) {
    // |x| as bits: for non-NaN floats their u32 order is the float order, so one integer max
    // gives amax, and a result above +Inf's bits means a NaN. MAX(amax, |x|) lets a NaN through
    // depending on its position: scalar path for those blocks.
    let m = i32x4.splat(0);
    for (let k = 0; k < 8; k++) m = i32x4.max_u(m, v128.and(vx(x, k), i32x4.splat(0x7fffffff)));
    m = i32x4.max_u(m, i32x4.shuffle(m, m, 2, 3, 0, 1));
    const amaxBits = <u32>i32x4.extract_lane(i32x4.max_u(m, i32x4.shuffle(m, m, 1, 0, 3, 2)), 0);
    if (amaxBits > 0x7f800000) { quantizeQ8_0(x, y, 1); continue; }
    const d: f32 = reinterpret<f32>(amaxBits) / <f32>127;
    const id: f32 = d != 0 ? <f32>1 / d : 0;
    store<u16>(y, <u16>fp32ToFp16(d));
    const idv = f32x4.splat(id);
    const v0 = f32x4.mul(vx(x, 0), idv), v1 = f32x4.mul(vx(x, 1), idv), v2 = f32x4.mul(vx(x, 2), idv), v3 = f32x4.mul(vx(x, 3), idv);
    const v4 = f32x4.mul(vx(x, 4), idv), v5 = f32x4.mul(vx(x, 5), idv), v6 = f32x4.mul(vx(x, 6), idv), v7 = f32x4.mul(vx(x, 7), idv);
    const sign = i32x4.splat(0x7fffffff);
    if (allBelow(v128.and(v0, sign), v128.and(v1, sign), v128.and(v2, sign), v128.and(v3, sign),
      v128.and(v4, sign), v128.and(v5, sign), v128.and(v6, sign), v128.and(v7, sign), 0x42ff0000 /* 127.5f */)) {
      v128.store(y + 2, bytes16s(q8Small(v0), q8Small(v1), q8Small(v2), q8Small(v3)));
      v128.store(y + 18, bytes16s(q8Small(v4), q8Small(v5), q8Small(v6), q8Small(v7)));
      continue;
    }
    v128.store(y + 2, bytes16s(q8(vx(x, 0), idv), q8(vx(x, 1), idv), q8(vx(x, 2), idv), q8(vx(x, 3), idv)));
    v128.store(y + 18, bytes16s(q8(vx(x, 4), idv), q8(vx(x, 5), idv), q8(vx(x, 6), idv), q8(vx(x, 7), idv)));
  }
}

/** The signed value of largest magnitude, first one on ties, NaN ignored (Q4_0/Q5_0's `max`). */
// @ts-ignore: decorator
@inline function signedAbsMax(x: usize): f32 {
  // The largest and the smallest value (pmax/pmin from 0 never take a NaN, as `amax < |x|`
  // does not): one of them is the answer unless they tie in magnitude, when the first wins.
  let hi = f32x4.splat(0), lo = f32x4.splat(0);
  for (let k = 0; k < 8; k++) { hi = f32x4.pmax(hi, vx(x, k)); lo = f32x4.pmin(lo, vx(x, k)); }
  const max = hmax(hi), min = hmin(lo);
  if (max > -min) return max;
  if (-min > max) return min;
  const amax = max;
  if (amax == 0) return 0; // never taken by `amax < |x|`: max stays +0
  const av = f32x4.splat(amax);
  for (let k = 0; k < 8; k++) {
    const bits = i32x4.bitmask(f32x4.eq(f32x4.abs(vx(x, k)), av));
    if (bits != 0) return load<f32>(x + (<usize>(4 * k + ctz(bits)) << 2));
  }
  return 0;
}

/** Codes `MIN(cap, (int8_t)(x*id + bias))` stored to uint8 for the 32 values, in C's order. */
// @ts-ignore: decorator
@inline function codes(v: v128, idv: v128, bias: f32, cap: i32): v128 {
  const q = int8(cvtt4(f32x4.add(f32x4.mul(v, idv), f32x4.splat(bias))));
  return v128.and(i32x4.min_s(q, i32x4.splat(cap)), i32x4.splat(255));
}

/** `codes` of v = x*id + bias when every lane of the block is in [+0, 128): the cast is a plain truncation. */
// @ts-ignore: decorator
@inline function codesSmall(v: v128, cap: i32): v128 {
  return i32x4.min_s(smallInt(f32x4.trunc(v)), i32x4.splat(cap));
}

/** x*id + bias for vector k of the block at x. */
// @ts-ignore: decorator
@inline function biased(x: usize, k: i32, idv: v128, bias: f32): v128 {
  return f32x4.add(f32x4.mul(vx(x, k), idv), f32x4.splat(bias));
}

export function quantizeQ4_0Simd(x: usize, y: usize, nb: i32): void {
  for (let i = 0; i < nb; i++, x += 128, y += 18) {
    const d: f32 = signedAbsMax(x) / <f32>-8;
    const id: f32 = d != 0 ? <f32>1 / d : 0;
    store<u16>(y, <u16>fp32ToFp16(d));
    const idv = f32x4.splat(id);
    const v0 = biased(x, 0, idv, 8.5), v1 = biased(x, 1, idv, 8.5), v2 = biased(x, 2, idv, 8.5), v3 = biased(x, 3, idv, 8.5);
    const v4 = biased(x, 4, idv, 8.5), v5 = biased(x, 5, idv, 8.5), v6 = biased(x, 6, idv, 8.5), v7 = biased(x, 7, idv, 8.5);
    if (allBelow(v0, v1, v2, v3, v4, v5, v6, v7, 0x43000000 /* 128.0f */)) {
      // Codes 0..15: a | b << 4 in 16-bit lanes cannot carry into the next byte.
      const a = bytes16u(codesSmall(v0, 15), codesSmall(v1, 15), codesSmall(v2, 15), codesSmall(v3, 15));
      const b = bytes16u(codesSmall(v4, 15), codesSmall(v5, 15), codesSmall(v6, 15), codesSmall(v7, 15));
      v128.store(y + 2, v128.or(a, i16x8.shl(b, 4)));
      continue;
    }
    const a0 = codes(vx(x, 0), idv, 8.5, 15), a1 = codes(vx(x, 1), idv, 8.5, 15);
    const a2 = codes(vx(x, 2), idv, 8.5, 15), a3 = codes(vx(x, 3), idv, 8.5, 15);
    const b0 = codes(vx(x, 4), idv, 8.5, 15), b1 = codes(vx(x, 5), idv, 8.5, 15);
    const b2 = codes(vx(x, 6), idv, 8.5, 15), b3 = codes(vx(x, 7), idv, 8.5, 15);
    const m = i32x4.splat(255);
    v128.store(y + 2, bytes16u(
      v128.and(v128.or(a0, i32x4.shl(b0, 4)), m), v128.and(v128.or(a1, i32x4.shl(b1, 4)), m),
      v128.and(v128.or(a2, i32x4.shl(b2, 4)), m), v128.and(v128.or(a3, i32x4.shl(b3, 4)), m)));
  }
}

/** Bit 4 of 16 codes (values 0..255 in i32 lanes) → 16-bit mask, element j in bit j. */
// @ts-ignore: decorator
@inline function bit4Mask(a0: v128, a1: v128, a2: v128, a3: v128): u32 {
  return <u32>i8x16.bitmask(i8x16.shl(bytes16u(a0, a1, a2, a3), 3));
}

/** Low nibbles of a (elements j) and b (elements j+16) into 16 bytes. */
// @ts-ignore: decorator
@inline function nibbles(a0: v128, a1: v128, a2: v128, a3: v128, b0: v128, b1: v128, b2: v128, b3: v128): v128 {
  const lo = i32x4.splat(15);
  return bytes16u(
    v128.or(v128.and(a0, lo), i32x4.shl(v128.and(b0, lo), 4)), v128.or(v128.and(a1, lo), i32x4.shl(v128.and(b1, lo), 4)),
    v128.or(v128.and(a2, lo), i32x4.shl(v128.and(b2, lo), 4)), v128.or(v128.and(a3, lo), i32x4.shl(v128.and(b3, lo), 4)));
}

export function quantizeQ5_0Simd(x: usize, y: usize, nb: i32): void {
  for (let i = 0; i < nb; i++, x += 128, y += 22) {
    const d: f32 = signedAbsMax(x) / <f32>-16;
    const id: f32 = d != 0 ? <f32>1 / d : 0;
    store<u16>(y, <u16>fp32ToFp16(d));
    const idv = f32x4.splat(id);
    const a0 = codes(vx(x, 0), idv, 16.5, 31), a1 = codes(vx(x, 1), idv, 16.5, 31);
    const a2 = codes(vx(x, 2), idv, 16.5, 31), a3 = codes(vx(x, 3), idv, 16.5, 31);
    const b0 = codes(vx(x, 4), idv, 16.5, 31), b1 = codes(vx(x, 5), idv, 16.5, 31);
    const b2 = codes(vx(x, 6), idv, 16.5, 31), b3 = codes(vx(x, 7), idv, 16.5, 31);
    store<u32>(y + 2, bit4Mask(a0, a1, a2, a3) | (bit4Mask(b0, b1, b2, b3) << 16));
    v128.store(y + 6, nibbles(a0, a1, a2, a3, b0, b1, b2, b3));
  }
}

/**
 * min and max of the block as ggml's strict-compare loop finds them. Returns false when that
 * loop's answer could depend on order (NaN present, or a ±0 extreme whose sign is positional).
 */
let bMin: f32 = 0, bMax: f32 = 0;
// @ts-ignore: decorator
@inline function minMaxSimd(x: usize): bool {
  if (hasNaN(x)) return false;
  // Same start as C (±FLT_MAX), so all-±inf blocks keep FLT_MAX like the strict compares do.
  let lo = f32x4.splat(f32.MAX_VALUE), hi = f32x4.splat(-f32.MAX_VALUE);
  for (let k = 0; k < 8; k++) { lo = f32x4.pmin(lo, vx(x, k)); hi = f32x4.pmax(hi, vx(x, k)); }
  bMin = hmin(lo); bMax = hmax(hi);
  return bMin != 0 && bMax != 0;
}

/** Q5_1 codes: `(uint8_t)((x - min)*id + 0.5f)`, no clamp (as in C). */
// @ts-ignore: decorator
@inline function codesMin(v: v128, minv: v128, idv: v128): v128 {
  return v128.and(cvtt4(f32x4.add(f32x4.mul(f32x4.sub(v, minv), idv), f32x4.splat(0.5))), i32x4.splat(255));
}

/** Q4_1 codes: `MIN(15, (int8_t)((x - min)*id + 0.5f))` stored to uint8. */
// @ts-ignore: decorator
@inline function codes41(v: v128, minv: v128, idv: v128): v128 {
  const q = int8(cvtt4(f32x4.add(f32x4.mul(f32x4.sub(v, minv), idv), f32x4.splat(0.5))));
  return v128.and(i32x4.min_s(q, i32x4.splat(15)), i32x4.splat(255));
}

export function quantizeQ4_1Simd(x: usize, y: usize, nb: i32): void {
  for (let i = 0; i < nb; i++, x += 128, y += 20) {
    if (!minMaxSimd(x)) { quantizeQ4_1(x, y, 1); continue; }
    const min = bMin, max = bMax;
    const d: f32 = (max - min) / <f32>15;
    const id: f32 = d != 0 ? <f32>1 / d : 0;
    store<u16>(y, <u16>fp32ToFp16(d));
    store<u16>(y + 2, <u16>fp32ToFp16(min));
    const idv = f32x4.splat(id), mv = f32x4.splat(min);
    const m = i32x4.splat(255);
    const a0 = codes41(vx(x, 0), mv, idv), a1 = codes41(vx(x, 1), mv, idv);
    const a2 = codes41(vx(x, 2), mv, idv), a3 = codes41(vx(x, 3), mv, idv);
    const b0 = codes41(vx(x, 4), mv, idv), b1 = codes41(vx(x, 5), mv, idv);
    const b2 = codes41(vx(x, 6), mv, idv), b3 = codes41(vx(x, 7), mv, idv);
    v128.store(y + 4, bytes16u(
      v128.and(v128.or(a0, i32x4.shl(b0, 4)), m), v128.and(v128.or(a1, i32x4.shl(b1, 4)), m),
      v128.and(v128.or(a2, i32x4.shl(b2, 4)), m), v128.and(v128.or(a3, i32x4.shl(b3, 4)), m)));
  }
}

export function quantizeQ5_1Simd(x: usize, y: usize, nb: i32): void {
  for (let i = 0; i < nb; i++, x += 128, y += 24) {
    if (!minMaxSimd(x)) { quantizeQ5_1(x, y, 1); continue; }
    const min = bMin, max = bMax;
    const d: f32 = (max - min) / <f32>31;
    const id: f32 = d != 0 ? <f32>1 / d : 0;
    store<u16>(y, <u16>fp32ToFp16(d));
    store<u16>(y + 2, <u16>fp32ToFp16(min));
    const idv = f32x4.splat(id), mv = f32x4.splat(min);
    const a0 = codesMin(vx(x, 0), mv, idv), a1 = codesMin(vx(x, 1), mv, idv);
    const a2 = codesMin(vx(x, 2), mv, idv), a3 = codesMin(vx(x, 3), mv, idv);
    const b0 = codesMin(vx(x, 4), mv, idv), b1 = codesMin(vx(x, 5), mv, idv);
    const b2 = codesMin(vx(x, 6), mv, idv), b3 = codesMin(vx(x, 7), mv, idv);
    store<u32>(y + 4, bit4Mask(a0, a1, a2, a3) | (bit4Mask(b0, b1, b2, b3) << 16));
    v128.store(y + 8, nibbles(a0, a1, a2, a3, b0, b1, b2, b3));
  }
}
