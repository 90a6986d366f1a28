/**
 * Q5_0: 32 values, fp16 scale d, 5-bit codes (value = d·(q−16)): low nibbles packed like Q4_0,
 * bit 4 of element j in bit j of the little-endian u32 qh.
 * Ports `quantize_row_q5_0_ref` and `dequantize_row_q5_0`.
 */
import { F, floatToInt8 } from './rounding.ts';
import { readFp16, writeFp16 } from './block-io.ts';
import { layoutOf } from '../block-layouts.ts';

const QK = 32;
const Q5_0 = layoutOf('Q5_0');

export function quantizeRowQ5_0Ref(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, nBlocks: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const x = srcOff + b * QK;
    const o = dstOff + b * Q5_0.size;
    let amax = 0, max = 0;
    for (let j = 0; j < QK; j++) {
      const v = src[x + j]!;
      const a = Math.abs(v);
      if (amax < a) { amax = a; max = v; }
    }
    const d = F(max / -16);
    const id = d !== 0 ? F(1 / d) : 0;
    writeFp16(dst, o, d);
    let qh = 0;
    for (let j = 0; j < 16; j++) {
      let a = floatToInt8(F(F(src[x + j]! * id) + 16.5));
      let c = floatToInt8(F(F(src[x + j + 16]! * id) + 16.5));
      a = (a < 31 ? a : 31) & 255; // MIN(31, int8) stored in a uint8_t
      c = (c < 31 ? c : 31) & 255;
      dst[o + 6 + j] = (a & 15) | ((c & 15) << 4);
      qh |= ((a & 16) >>> 4) << j;
      qh |= ((c & 16) >>> 4) << (j + 16);
    }
    dst[o + 2] = qh & 255;
    dst[o + 3] = (qh >>> 8) & 255;
    dst[o + 4] = (qh >>> 16) & 255;
    dst[o + 5] = (qh >>> 24) & 255;
  }
}

export function dequantizeRowQ5_0(src: Uint8Array, srcOff: number, dst: Float32Array, dstOff: number, nBlocks: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const o = srcOff + b * Q5_0.size;
    const y = dstOff + b * QK;
    const d = readFp16(src, o);
    const qh = src[o + 2]! | (src[o + 3]! << 8) | (src[o + 4]! << 16) | (src[o + 5]! << 24);
    for (let j = 0; j < 16; j++) {
      const q = src[o + 6 + j]!;
      const h0 = ((qh >>> j) << 4) & 16;
      const h1 = (qh >>> (j + 12)) & 16;
      dst[y + j] = (((q & 15) | h0) - 16) * d;
      dst[y + j + 16] = (((q >>> 4) | h1) - 16) * d;
    }
  }
}
