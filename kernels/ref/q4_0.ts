/**
 * Q4_0: 32 values, fp16 scale d, 4-bit codes (value = d·(q−8)); element j shares byte j with j+16.
 * Ports `quantize_row_q4_0_ref` and `dequantize_row_q4_0`.
 */
import { F, floatToInt8 } from './rounding.ts';
import { readFp16, writeFp16 } from './block-io.ts';
import { layoutOf } from '../block-layouts.ts';

const QK = 32;
const Q4_0 = layoutOf('Q4_0');

export function quantizeRowQ4_0Ref(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, nBlocks: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const x = srcOff + b * QK;
    const o = dstOff + b * Q4_0.size;
    let amax = 0, max = 0;
    for (let j = 0; j < QK; j++) {
      const v = src[x + j]!;
      const a = Math.abs(v);
      if (amax < a) { amax = a; max = v; } // first strict maximum keeps its sign
    }
    const d = F(max / -8);
    const id = d !== 0 ? F(1 / d) : 0;
    writeFp16(dst, o, d);
    for (let j = 0; j < 16; j++) {
      // `MIN(15, (int8_t)(x*id + 8.5f))`: the +8.5 rounds in binary32 before truncation.
      const a = floatToInt8(F(F(src[x + j]! * id) + 8.5));
      const c = floatToInt8(F(F(src[x + j + 16]! * id) + 8.5));
      dst[o + 2 + j] = ((a < 15 ? a : 15) & 255) | (((c < 15 ? c : 15) << 4) & 255);
    }
  }
}

export function dequantizeRowQ4_0(src: Uint8Array, srcOff: number, dst: Float32Array, dstOff: number, nBlocks: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const o = srcOff + b * Q4_0.size;
    const y = dstOff + b * QK;
    const d = readFp16(src, o);
    for (let j = 0; j < 16; j++) {
      const q = src[o + 2 + j]!;
      dst[y + j] = ((q & 15) - 8) * d;
      dst[y + j + 16] = ((q >>> 4) - 8) * d;
    }
  }
}
