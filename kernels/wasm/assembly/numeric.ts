// Numeric primitives of ggml-quants.c (ggml-impl.h), in binary32 exactly as the C reference
// built for x86-64 without FMA computes them. Wasm f32 ops are IEEE binary32 with RNE, so plain
// f32 arithmetic here is the "F() after every op" rule of the spec, for free.

/** `nearest_int` (ggml-quants.c): magic-number add, round half to even; wraps like C for huge x. */
// @ts-ignore: decorator
@inline export function nearestInt(x: f32): i32 {
  const v: f32 = x + <f32>12582912.0;
  return (reinterpret<i32>(v) & 0x007fffff) - 0x00400000;
}

/**
 * C's float→int cast as gcc emits it on x86-64 (`cvttss2si`): truncation toward zero, and the
 * "integer indefinite" 0x80000000 for NaN and out-of-range values. Narrowing casts
 * (`(int8_t)`, `(uint8_t)`) then keep the low byte of this 32-bit result.
 */
// @ts-ignore: decorator
@inline export function cvtt(x: f32): i32 {
  return x >= <f32>-2147483648.0 && x < <f32>2147483648.0 ? <i32>x : <i32>0x80000000;
}

/** `roundf`: half away from zero. `x - trunc(x)` is exact in binary32, so no double rounding. */
// @ts-ignore: decorator
@inline export function roundAway(x: f32): f32 {
  const t: f32 = trunc<f32>(x);
  return abs<f32>(x - t) >= <f32>0.5 ? t + copysign<f32>(1, x) : t;
}

/** `ggml_compute_fp32_to_fp16` (ggml-impl.h): the portable bit trick, IEEE RNE, NaN → 0x7E00|sign. */
export function fp32ToFp16(f: f32): u32 {
  const scaleToInf = reinterpret<f32>(<u32>0x77800000);
  const scaleToZero = reinterpret<f32>(<u32>0x08800000);
  let base: f32 = (abs<f32>(f) * scaleToInf) * scaleToZero;
  const w = reinterpret<u32>(f);
  const shl1 = w << 1;
  const sign = w & 0x80000000;
  let bias = shl1 & 0xff000000;
  if (bias < 0x71000000) bias = 0x71000000;
  base = reinterpret<f32>((bias >> 1) + 0x07800000) + base;
  const bits = reinterpret<u32>(base);
  const nonsign = ((bits >> 13) & 0x00007c00) + (bits & 0x00000fff);
  return (sign >> 16) | (shl1 > 0xff000000 ? 0x7e00 : nonsign);
}

/** `ggml_compute_fp16_to_fp32` (ggml-impl.h): exact widening. */
export function fp16ToFp32(h: u32): f32 {
  const w = h << 16;
  const sign = w & 0x80000000;
  const twoW = w + w;
  const normalized = reinterpret<f32>((twoW >> 4) + (<u32>0xe0 << 23)) * reinterpret<f32>(<u32>0x07800000);
  const denormalized = reinterpret<f32>((twoW >> 17) | (<u32>126 << 23)) - <f32>0.5;
  const r = twoW < (<u32>1 << 27) ? reinterpret<u32>(denormalized) : reinterpret<u32>(normalized);
  return reinterpret<f32>(sign | r);
}

/** `ggml_compute_fp32_to_bf16` (ggml-impl.h): RNE, NaN keeps its top bits and is forced quiet. */
// @ts-ignore: decorator
@inline export function fp32ToBf16(f: f32): u32 {
  const u = reinterpret<u32>(f);
  if ((u & 0x7fffffff) > 0x7f800000) return (u >> 16) | 64;
  return (u + (0x7fff + ((u >> 16) & 1))) >> 16;
}
