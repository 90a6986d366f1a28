// F16/BF16 rows, 8 values per step: the same bit tricks as numeric.ts (ggml-impl.h
// `ggml_compute_fp32_to_fp16`, `ggml_compute_fp32_to_bf16`, `ggml_compute_fp16_to_fp32`) done
// lane-wise. Tails shorter than 8 go through the scalar versions in plain.ts.
import { quantizeF16, quantizeBF16, dequantizeF16 } from './plain';

// @ts-ignore: decorator
@inline function toFp16x4(f: v128): v128 {
  let base = f32x4.mul(f32x4.mul(f32x4.abs(f), f32x4.splat(reinterpret<f32>(<u32>0x77800000))), f32x4.splat(reinterpret<f32>(<u32>0x08800000)));
  const shl1 = i32x4.shl(f, 1);
  const sign = v128.and(f, i32x4.splat(0x80000000));
  const bias = i32x4.max_u(v128.and(shl1, i32x4.splat(0xff000000)), i32x4.splat(0x71000000));
  base = f32x4.add(i32x4.add(i32x4.shr_u(bias, 1), i32x4.splat(0x07800000)), base);
  const nonsign = i32x4.add(v128.and(i32x4.shr_u(base, 13), i32x4.splat(0x00007c00)), v128.and(base, i32x4.splat(0x00000fff)));
  const nan = i32x4.gt_u(shl1, i32x4.splat(0xff000000));
  return v128.or(i32x4.shr_u(sign, 16), v128.bitselect(i32x4.splat(0x7e00), nonsign, nan));
}

export function quantizeF16Simd(x: usize, y: usize, n: i32): void {
  const n8 = n & ~7;
  for (let i = 0; i < n8; i += 8) {
    const p = x + (<usize>i << 2);
    v128.store(y + (<usize>i << 1), i16x8.narrow_i32x4_u(toFp16x4(v128.load(p)), toFp16x4(v128.load(p, 16))));
  }
  if (n8 < n) quantizeF16(x + (<usize>n8 << 2), y + (<usize>n8 << 1), n - n8);
}

// @ts-ignore: decorator
@inline function toBf16x4(u: v128): v128 {
  const nan = i32x4.gt_u(v128.and(u, i32x4.splat(0x7fffffff)), i32x4.splat(0x7f800000));
  const rne = i32x4.shr_u(i32x4.add(u, i32x4.add(i32x4.splat(0x7fff), v128.and(i32x4.shr_u(u, 16), i32x4.splat(1)))), 16);
  return v128.bitselect(v128.or(i32x4.shr_u(u, 16), i32x4.splat(64)), rne, nan);
}

export function quantizeBF16Simd(x: usize, y: usize, n: i32): void {
  const n8 = n & ~7;
  for (let i = 0; i < n8; i += 8) {
    const p = x + (<usize>i << 2);
    v128.store(y + (<usize>i << 1), i16x8.narrow_i32x4_u(toBf16x4(v128.load(p)), toBf16x4(v128.load(p, 16))));
  }
  if (n8 < n) quantizeBF16(x + (<usize>n8 << 2), y + (<usize>n8 << 1), n - n8);
}

// @ts-ignore: decorator
@inline function fromFp16x4(h: v128): v128 {
  const w = i32x4.shl(h, 16);
  const sign = v128.and(w, i32x4.splat(0x80000000));
  const twoW = i32x4.add(w, w);
  const normalized = f32x4.mul(i32x4.add(i32x4.shr_u(twoW, 4), i32x4.splat(0xe0 << 23)), f32x4.splat(reinterpret<f32>(<u32>0x07800000)));
  const denormalized = f32x4.sub(v128.or(i32x4.shr_u(twoW, 17), i32x4.splat(126 << 23)), f32x4.splat(0.5));
  const small = i32x4.lt_u(twoW, i32x4.splat(1 << 27));
  return v128.or(sign, v128.bitselect(denormalized, normalized, small));
}

export function dequantizeF16Simd(x: usize, y: usize, n: i32): void {
  const n8 = n & ~7;
  for (let i = 0; i < n8; i += 8) {
    const h = v128.load(x + (<usize>i << 1));
    const p = y + (<usize>i << 2);
    v128.store(p, fromFp16x4(i32x4.extend_low_i16x8_u(h)));
    v128.store(p, fromFp16x4(i32x4.extend_high_i16x8_u(h)), 16);
  }
  if (n8 < n) dequantizeF16(x + (<usize>n8 << 1), y + (<usize>n8 << 2), n - n8);
}
