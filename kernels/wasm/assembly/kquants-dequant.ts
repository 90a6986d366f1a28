// The 256-element K-quant dequantizers: ports of ggml-quants.c `dequantize_row_q{2,3,4,5,6}_K`,
// one binary32 op per C operation (so results match llama.cpp's to_float bit for bit).
import { fp16ToFp32 } from './numeric';
import { scaleMinK4 } from './kquants';

// @ts-ignore: decorator
@inline function st(p: usize, j: i32, v: f32): void { store<f32>(p + (<usize>j << 2), v); }

export function dequantizeQ2_K(x: usize, y: usize, nb: i32): void {
  for (let i = 0; i < nb; i++, x += 84, y += 1024) {
    const d = fp16ToFp32(load<u16>(x + 80)), min = fp16ToFp32(load<u16>(x + 82));
    let out = 0;
    for (let h = 0; h < 2; h++) {
      const q = x + 16 + 32 * h;
      for (let j = 0; j < 4; j++) {
        const shift = 2 * j;
        for (let half = 0; half < 2; half++) {
          const s = <i32>load<u8>(x + 8 * h + 2 * j + half);
          const dl: f32 = d * <f32>(s & 15), ml: f32 = min * <f32>(s >> 4);
          for (let l = 0; l < 16; l++) st(y, out++, dl * <f32>((<i32>load<u8>(q + 16 * half + l) >> shift) & 3) - ml);
        }
      }
    }
  }
}

export function dequantizeQ3_K(x: usize, y: usize, nb: i32): void {
  for (let i = 0; i < nb; i++, x += 110, y += 1024) {
    const dAll = fp16ToFp32(load<u16>(x + 108));
    const S = x + 96;
    let out = 0, m = 1;
    for (let h = 0; h < 2; h++) {
      const q = x + 32 + 32 * h;
      for (let j = 0; j < 4; j++) {
        const shift = 2 * j;
        for (let half = 0; half < 2; half++) {
          const s = 8 * h + 2 * j + half;
          const lo = s < 8 ? <i32>load<u8>(S + s) & 15 : <i32>load<u8>(S + s - 8) >> 4;
          const sc = (lo | (((<i32>load<u8>(S + 8 + (s & 3)) >> (2 * (s >> 2))) & 3) << 4)) - 32;
          const dl: f32 = dAll * <f32>sc;
          for (let l = 0; l < 16; l++) {
            const k = 16 * half + l;
            const v = ((<i32>load<u8>(q + k) >> shift) & 3) - ((<i32>load<u8>(x + k) & m) != 0 ? 0 : 4);
            st(y, out++, dl * <f32>v);
          }
        }
        m <<= 1;
      }
    }
  }
}

export function dequantizeQ4_K(x: usize, y: usize, nb: i32): void {
  for (let i = 0; i < nb; i++, x += 144, y += 1024) {
    const d = fp16ToFp32(load<u16>(x)), min = fp16ToFp32(load<u16>(x + 2));
    for (let c = 0; c < 4; c++) {
      const q = x + 16 + 32 * c;
      const sm1 = scaleMinK4(2 * c, x + 4), sm2 = scaleMinK4(2 * c + 1, x + 4);
      const d1: f32 = d * <f32>(sm1 & 255), m1: f32 = min * <f32>(sm1 >> 8);
      const d2: f32 = d * <f32>(sm2 & 255), m2: f32 = min * <f32>(sm2 >> 8);
      for (let l = 0; l < 32; l++) st(y, 64 * c + l, d1 * <f32>(<i32>load<u8>(q + l) & 15) - m1);
      for (let l = 0; l < 32; l++) st(y, 64 * c + 32 + l, d2 * <f32>(<i32>load<u8>(q + l) >> 4) - m2);
    }
  }
}

export function dequantizeQ5_K(x: usize, y: usize, nb: i32): void {
  for (let i = 0; i < nb; i++, x += 176, y += 1024) {
    const d = fp16ToFp32(load<u16>(x)), min = fp16ToFp32(load<u16>(x + 2));
    const qh = x + 16;
    let u1 = 1, u2 = 2;
    for (let c = 0; c < 4; c++) {
      const q = x + 48 + 32 * c;
      const sm1 = scaleMinK4(2 * c, x + 4), sm2 = scaleMinK4(2 * c + 1, x + 4);
      const d1: f32 = d * <f32>(sm1 & 255), m1: f32 = min * <f32>(sm1 >> 8);
      const d2: f32 = d * <f32>(sm2 & 255), m2: f32 = min * <f32>(sm2 >> 8);
      for (let l = 0; l < 32; l++) {
        const h = (<i32>load<u8>(qh + l) & u1) != 0 ? 16 : 0;
        st(y, 64 * c + l, d1 * <f32>((<i32>load<u8>(q + l) & 15) + h) - m1);
      }
      for (let l = 0; l < 32; l++) {
        const h = (<i32>load<u8>(qh + l) & u2) != 0 ? 16 : 0;
        st(y, 64 * c + 32 + l, d2 * <f32>((<i32>load<u8>(q + l) >> 4) + h) - m2);
      }
      u1 <<= 2; u2 <<= 2;
    }
  }
}

export function dequantizeQ6_K(x: usize, y: usize, nb: i32): void {
  for (let i = 0; i < nb; i++, x += 210, y += 1024) {
    const d = fp16ToFp32(load<u16>(x + 208));
    for (let h = 0; h < 2; h++) {
      const ql = x + 64 * h, qh = x + 128 + 32 * h, sc = x + 192 + 8 * h, yo = 128 * h;
      for (let l = 0; l < 32; l++) {
        const is = l >> 4;
        const hb = <i32>load<u8>(qh + l);
        const q1 = ((<i32>load<u8>(ql + l) & 15) | ((hb & 3) << 4)) - 32;
        const q2 = ((<i32>load<u8>(ql + l + 32) & 15) | (((hb >> 2) & 3) << 4)) - 32;
        const q3 = ((<i32>load<u8>(ql + l) >> 4) | (((hb >> 4) & 3) << 4)) - 32;
        const q4 = ((<i32>load<u8>(ql + l + 32) >> 4) | (((hb >> 6) & 3) << 4)) - 32;
        st(y, yo + l, d * <f32>load<i8>(sc + is) * <f32>q1);
        st(y, yo + l + 32, d * <f32>load<i8>(sc + is + 2) * <f32>q2);
        st(y, yo + l + 64, d * <f32>load<i8>(sc + is + 4) * <f32>q3);
        st(y, yo + l + 96, d * <f32>load<i8>(sc + is + 6) * <f32>q4);
      }
    }
  }
}
