// SIMD dequantizers for the most used types (ggml-quants.c `dequantize_row_q{8_0,4_0}` and
// `dequantize_row_q{4,5,6}_K`), 16 codes per step. Each element still gets exactly the C
// expression's binary32 ops in C order (int → float is exact), so the floats are bit-identical
// to the scalar ports in legacy.ts / kquants-dequant.ts and to llama.cpp.
import { fp16ToFp32 } from './numeric';
import { scaleMinK4 } from './kquants';

/** 16 signed 8-bit codes → 4 vectors of f32, stored at y as `code * mul` (mul first if mulFirst). */
// @ts-ignore: decorator
@inline function storeScaled(y: usize, codes: v128, mul: v128, minus: v128, withMinus: bool): void {
  const lo = i16x8.extend_low_i8x16_s(codes), hi = i16x8.extend_high_i8x16_s(codes);
  const a = f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(lo));
  const b = f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(lo));
  const c = f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(hi));
  const d = f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(hi));
  if (withMinus) {
    v128.store(y, f32x4.sub(f32x4.mul(mul, a), minus));
    v128.store(y, f32x4.sub(f32x4.mul(mul, b), minus), 16);
    v128.store(y, f32x4.sub(f32x4.mul(mul, c), minus), 32);
    v128.store(y, f32x4.sub(f32x4.mul(mul, d), minus), 48);
  } else {
    v128.store(y, f32x4.mul(mul, a));
    v128.store(y, f32x4.mul(mul, b), 16);
    v128.store(y, f32x4.mul(mul, c), 32);
    v128.store(y, f32x4.mul(mul, d), 48);
  }
}

export function dequantizeQ8_0Simd(x: usize, y: usize, nb: i32): void {
  const none = f32x4.splat(0);
  for (let i = 0; i < nb; i++, x += 34, y += 128) {
    const d = f32x4.splat(fp16ToFp32(load<u16>(x)));
    storeScaled(y, v128.load(x + 2), d, none, false);
    storeScaled(y + 64, v128.load(x + 18), d, none, false);
  }
}

export function dequantizeQ4_0Simd(x: usize, y: usize, nb: i32): void {
  const none = f32x4.splat(0), eight = i8x16.splat(8), lo = i8x16.splat(15);
  for (let i = 0; i < nb; i++, x += 18, y += 128) {
    const d = f32x4.splat(fp16ToFp32(load<u16>(x)));
    const q = v128.load(x + 2);
    storeScaled(y, i8x16.sub(v128.and(q, lo), eight), d, none, false);
    storeScaled(y + 64, i8x16.sub(i8x16.shr_u(q, 4), eight), d, none, false);
  }
}

export function dequantizeQ4_KSimd(x: usize, y: usize, nb: i32): void {
  const lo = i8x16.splat(15);
  for (let i = 0; i < nb; i++, x += 144, y += 1024) {
    const d = fp16ToFp32(load<u16>(x)), min = fp16ToFp32(load<u16>(x + 2));
    for (let c = 0; c < 4; c++) {
      const sm1 = scaleMinK4(2 * c, x + 4), sm2 = scaleMinK4(2 * c + 1, x + 4);
      const d1 = f32x4.splat(d * <f32>(sm1 & 255)), m1 = f32x4.splat(min * <f32>(sm1 >> 8));
      const d2 = f32x4.splat(d * <f32>(sm2 & 255)), m2 = f32x4.splat(min * <f32>(sm2 >> 8));
      const yc = y + 256 * c;
      for (let l = 0; l < 32; l += 16) {
        const q = v128.load(x + 16 + 32 * c + l);
        storeScaled(yc + 4 * l, v128.and(q, lo), d1, m1, true);
        storeScaled(yc + 128 + 4 * l, i8x16.shr_u(q, 4), d2, m2, true);
      }
    }
  }
}

export function dequantizeQ5_KSimd(x: usize, y: usize, nb: i32): void {
  const lo = i8x16.splat(15), sixteen = i8x16.splat(16), zero = i8x16.splat(0);
  for (let i = 0; i < nb; i++, x += 176, y += 1024) {
    const d = fp16ToFp32(load<u16>(x)), min = fp16ToFp32(load<u16>(x + 2));
    for (let c = 0; c < 4; c++) {
      const sm1 = scaleMinK4(2 * c, x + 4), sm2 = scaleMinK4(2 * c + 1, x + 4);
      const d1 = f32x4.splat(d * <f32>(sm1 & 255)), m1 = f32x4.splat(min * <f32>(sm1 >> 8));
      const d2 = f32x4.splat(d * <f32>(sm2 & 255)), m2 = f32x4.splat(min * <f32>(sm2 >> 8));
      const u1 = i8x16.splat(<i8>(<i32>1 << (2 * c))), u2 = i8x16.splat(<i8>(<i32>2 << (2 * c)));
      const yc = y + 256 * c;
      for (let l = 0; l < 32; l += 16) {
        const q = v128.load(x + 48 + 32 * c + l), h = v128.load(x + 16 + l);
        const h1 = v128.and(i8x16.ne(v128.and(h, u1), zero), sixteen);
        const h2 = v128.and(i8x16.ne(v128.and(h, u2), zero), sixteen);
        storeScaled(yc + 4 * l, i8x16.add(v128.and(q, lo), h1), d1, m1, true);
        storeScaled(yc + 128 + 4 * l, i8x16.add(i8x16.shr_u(q, 4), h2), d2, m2, true);
      }
    }
  }
}

export function dequantizeQ6_KSimd(x: usize, y: usize, nb: i32): void {
  const lo = i8x16.splat(15), three = i8x16.splat(3), off = i8x16.splat(32), none = f32x4.splat(0);
  for (let i = 0; i < nb; i++, x += 210, y += 1024) {
    const d = fp16ToFp32(load<u16>(x + 208));
    for (let h = 0; h < 2; h++) {
      const ql = x + 64 * h, qh = x + 128 + 32 * h, sc = x + 192 + 8 * h, yo = y + 512 * h;
      for (let l = 0; l < 32; l += 16) {
        const is = l >> 4;
        const a = v128.load(ql + l), b = v128.load(ql + l + 32), hb = v128.load(qh + l);
        const q1 = i8x16.sub(v128.or(v128.and(a, lo), i8x16.shl(v128.and(hb, three), 4)), off);
        const q2 = i8x16.sub(v128.or(v128.and(b, lo), i8x16.shl(v128.and(i8x16.shr_u(hb, 2), three), 4)), off);
        const q3 = i8x16.sub(v128.or(i8x16.shr_u(a, 4), i8x16.shl(v128.and(i8x16.shr_u(hb, 4), three), 4)), off);
        const q4 = i8x16.sub(v128.or(i8x16.shr_u(b, 4), i8x16.shl(i8x16.shr_u(hb, 6), 4)), off);
        // C: d * sc[is] * q, i.e. (d * sc) * q.
        storeScaled(yo + 4 * l, q1, f32x4.splat(d * <f32>load<i8>(sc + is)), none, false);
        storeScaled(yo + 128 + 4 * l, q2, f32x4.splat(d * <f32>load<i8>(sc + is + 2)), none, false);
        storeScaled(yo + 256 + 4 * l, q3, f32x4.splat(d * <f32>load<i8>(sc + is + 4)), none, false);
        storeScaled(yo + 384 + 4 * l, q4, f32x4.splat(d * <f32>load<i8>(sc + is + 6)), none, false);
      }
    }
  }
}
