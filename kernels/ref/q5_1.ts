/**
 * Q5_1: 32 values, fp16 scale d and fp16 min m, 5-bit codes (value = d·q + m), packed like Q5_0.
 * Ports `quantize_row_q5_1_ref` and `dequantize_row_q5_1`.
 */
import { F, floatToUint8 } from './rounding.ts';
import { readFp16, writeFp16 } from './block-io.ts';
import { layoutOf } from '../block-layouts.ts';

const QK = 32;
const Q5_1 = layoutOf('Q5_1');
const FLT_MAX = 3.4028234663852886e38;

export function quantizeRowQ5_1Ref(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, nBlocks: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const x = srcOff + b * QK;
    const o = dstOff + b * Q5_1.size;
    let min = FLT_MAX, max = -FLT_MAX;
    for (let j = 0; j < QK; j++) {
      const v = src[x + j]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const d = F(F(max - min) / 31);
    const id = d !== 0 ? F(1 / d) : 0;
    writeFp16(dst, o, d);
    writeFp16(dst, o + 2, min);
    let qh = 0;
    for (let j = 0; j < 16; j++) {
      // `(uint8_t)(x + 0.5f)`: no clamp to 31 upstream.
      const a = floatToUint8(F(F(F(src[x + j]! - min) * id) + 0.5));
      const c = floatToUint8(F(F(F(src[x + j + 16]! - min) * id) + 0.5));
      dst[o + 8 + j] = (a & 15) | ((c & 15) << 4);
      qh |= ((a & 16) >>> 4) << j;
      qh |= ((c & 16) >>> 4) << (j + 16);
    }
    dst[o + 4] = qh & 255;
    dst[o + 5] = (qh >>> 8) & 255;
    dst[o + 6] = (qh >>> 16) & 255;
    dst[o + 7] = (qh >>> 24) & 255;
  }
}

export function dequantizeRowQ5_1(src: Uint8Array, srcOff: number, dst: Float32Array, dstOff: number, nBlocks: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const o = srcOff + b * Q5_1.size;
    const y = dstOff + b * QK;
    const d = readFp16(src, o);
    const m = readFp16(src, o + 2);
    const qh = src[o + 4]! | (src[o + 5]! << 8) | (src[o + 6]! << 16) | (src[o + 7]! << 24);
    for (let j = 0; j < 16; j++) {
      const q = src[o + 8 + j]!;
      const h0 = ((qh >>> j) << 4) & 16;
      const h1 = (qh >>> (j + 12)) & 16;
      dst[y + j] = F(((q & 15) | h0) * d) + m;
      dst[y + j + 16] = F(((q >>> 4) | h1) * d) + m;
    }
  }
}
