// The 32-element block quants: ports of ggml-quants.c `quantize_row_q{8_0,4_0,4_1,5_0,5_1}_ref`
// and `dequantize_row_q{8_0,4_0,4_1,5_0,5_1}`. Blocks are independent, so `nb` blocks are
// processed back to back whatever the row length.
import { cvtt, roundAway, fp32ToFp16, fp16ToFp32 } from './numeric';

// @ts-ignore: decorator
@inline function ld(p: usize, j: i32): f32 { return load<f32>(p + (<usize>j << 2)); }

/** C `MIN(a, b)` then stored to uint8_t. */
// @ts-ignore: decorator
@inline function minU8(cap: i32, v: i32): i32 { return (cap < v ? cap : v) & 255; }

export function quantizeQ8_0(x: usize, y: usize, nb: i32): void {
  for (let i = 0; i < nb; i++, x += 128, y += 34) {
    let amax: f32 = 0;
    for (let j = 0; j < 32; j++) { const v = abs<f32>(ld(x, j)); amax = amax > v ? amax : v; }
    const d: f32 = amax / <f32>127;
    const id: f32 = d != 0 ? <f32>1 / d : 0;
    store<u16>(y, <u16>fp32ToFp16(d));
    for (let j = 0; j < 32; j++) store<u8>(y + 2 + j, <u8>cvtt(roundAway(ld(x, j) * id)));
  }
}

/** Shared by Q4_0 (nmax 8) and Q5_0 (nmax 16): the signed extreme maps to code 0. */
// @ts-ignore: decorator
@inline function absMaxSigned(x: usize): f32 {
  let amax: f32 = 0, max: f32 = 0;
  for (let j = 0; j < 32; j++) {
    const v = ld(x, j);
    if (amax < abs<f32>(v)) { amax = abs<f32>(v); max = v; }
  }
  return max;
}

export function quantizeQ4_0(x: usize, y: usize, nb: i32): void {
  for (let i = 0; i < nb; i++, x += 128, y += 18) {
    const d: f32 = absMaxSigned(x) / <f32>-8;
    const id: f32 = d != 0 ? <f32>1 / d : 0;
    store<u16>(y, <u16>fp32ToFp16(d));
    for (let j = 0; j < 16; j++) {
      const a = minU8(15, <i8>cvtt(ld(x, j) * id + <f32>8.5));
      const b = minU8(15, <i8>cvtt(ld(x, j + 16) * id + <f32>8.5));
      store<u8>(y + 2 + j, <u8>(a | (b << 4)));
    }
  }
}

export function quantizeQ5_0(x: usize, y: usize, nb: i32): void {
  for (let i = 0; i < nb; i++, x += 128, y += 22) {
    const d: f32 = absMaxSigned(x) / <f32>-16;
    const id: f32 = d != 0 ? <f32>1 / d : 0;
    store<u16>(y, <u16>fp32ToFp16(d));
    let qh: u32 = 0;
    for (let j = 0; j < 16; j++) {
      const a = minU8(31, <i8>cvtt(ld(x, j) * id + <f32>16.5));
      const b = minU8(31, <i8>cvtt(ld(x, j + 16) * id + <f32>16.5));
      store<u8>(y + 6 + j, <u8>((a & 15) | ((b & 15) << 4)));
      qh |= (<u32>(a & 16) >> 4) << j;
      qh |= (<u32>(b & 16) >> 4) << (j + 16);
    }
    store<u32>(y + 2, qh);
  }
}

/** min/max as ggml (`FLT_MAX` start, strict compares, NaN never taken). Returns max; min in MIN_OUT. */
let minOut: f32 = 0;
// @ts-ignore: decorator
@inline function minMax(x: usize): f32 {
  let min: f32 = f32.MAX_VALUE, max: f32 = -f32.MAX_VALUE;
  for (let j = 0; j < 32; j++) {
    const v = ld(x, j);
    if (v < min) min = v;
    if (v > max) max = v;
  }
  minOut = min;
  return max;
}

export function quantizeQ4_1(x: usize, y: usize, nb: i32): void {
  for (let i = 0; i < nb; i++, x += 128, y += 20) {
    const max = minMax(x), min = minOut;
    const d: f32 = (max - min) / <f32>15;
    const id: f32 = d != 0 ? <f32>1 / d : 0;
    store<u16>(y, <u16>fp32ToFp16(d));
    store<u16>(y + 2, <u16>fp32ToFp16(min));
    for (let j = 0; j < 16; j++) {
      const a = minU8(15, <i8>cvtt((ld(x, j) - min) * id + <f32>0.5));
      const b = minU8(15, <i8>cvtt((ld(x, j + 16) - min) * id + <f32>0.5));
      store<u8>(y + 4 + j, <u8>(a | (b << 4)));
    }
  }
}

export function quantizeQ5_1(x: usize, y: usize, nb: i32): void {
  for (let i = 0; i < nb; i++, x += 128, y += 24) {
    const max = minMax(x), min = minOut;
    const d: f32 = (max - min) / <f32>31;
    const id: f32 = d != 0 ? <f32>1 / d : 0;
    store<u16>(y, <u16>fp32ToFp16(d));
    store<u16>(y + 2, <u16>fp32ToFp16(min));
    let qh: u32 = 0;
    for (let j = 0; j < 16; j++) {
      const a = cvtt((ld(x, j) - min) * id + <f32>0.5) & 255;
      const b = cvtt((ld(x, j + 16) - min) * id + <f32>0.5) & 255;
      store<u8>(y + 8 + j, <u8>((a & 15) | ((b & 15) << 4)));
      qh |= (<u32>(a & 16) >> 4) << j;
      qh |= (<u32>(b & 16) >> 4) << (j + 16);
    }
    store<u32>(y + 4, qh);
  }
}

// ---- dequantization (`dequantize_row_*`): int code × f32 scale, one binary32 op per step.

// @ts-ignore: decorator
@inline function st(p: usize, j: i32, v: f32): void { store<f32>(p + (<usize>j << 2), v); }

export function dequantizeQ8_0(x: usize, y: usize, nb: i32): void {
  for (let i = 0; i < nb; i++, x += 34, y += 128) {
    const d = fp16ToFp32(load<u16>(x));
    for (let j = 0; j < 32; j++) st(y, j, <f32>load<i8>(x + 2 + j) * d);
  }
}

export function dequantizeQ4_0(x: usize, y: usize, nb: i32): void {
  for (let i = 0; i < nb; i++, x += 18, y += 128) {
    const d = fp16ToFp32(load<u16>(x));
    for (let j = 0; j < 16; j++) {
      const q = <i32>load<u8>(x + 2 + j);
      st(y, j, <f32>((q & 15) - 8) * d);
      st(y, j + 16, <f32>((q >> 4) - 8) * d);
    }
  }
}

export function dequantizeQ4_1(x: usize, y: usize, nb: i32): void {
  for (let i = 0; i < nb; i++, x += 20, y += 128) {
    const d = fp16ToFp32(load<u16>(x)), m = fp16ToFp32(load<u16>(x + 2));
    for (let j = 0; j < 16; j++) {
      const q = <i32>load<u8>(x + 4 + j);
      st(y, j, <f32>(q & 15) * d + m);
      st(y, j + 16, <f32>(q >> 4) * d + m);
    }
  }
}

export function dequantizeQ5_0(x: usize, y: usize, nb: i32): void {
  for (let i = 0; i < nb; i++, x += 22, y += 128) {
    const d = fp16ToFp32(load<u16>(x));
    const qh = load<u32>(x + 2);
    for (let j = 0; j < 16; j++) {
      const q = <i32>load<u8>(x + 6 + j);
      const h0 = <i32>((qh >> j) << 4) & 16, h1 = <i32>(qh >> (j + 12)) & 16;
      st(y, j, <f32>(((q & 15) | h0) - 16) * d);
      st(y, j + 16, <f32>(((q >> 4) | h1) - 16) * d);
    }
  }
}

export function dequantizeQ5_1(x: usize, y: usize, nb: i32): void {
  for (let i = 0; i < nb; i++, x += 24, y += 128) {
    const d = fp16ToFp32(load<u16>(x)), m = fp16ToFp32(load<u16>(x + 2));
    const qh = load<u32>(x + 4);
    for (let j = 0; j < 16; j++) {
      const q = <i32>load<u8>(x + 8 + j);
      const h0 = <i32>((qh >> j) << 4) & 16, h1 = <i32>(qh >> (j + 12)) & 16;
      st(y, j, <f32>((q & 15) | h0) * d + m);
      st(y, j + 16, <f32>((q >> 4) | h1) * d + m);
    }
  }
}
