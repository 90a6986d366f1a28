/**
 * Q4_1: 32 values, fp16 scale d and fp16 min m, 4-bit codes (value = d·q + m), packed like Q4_0.
 * Ports `quantize_row_q4_1_ref` and `dequantize_row_q4_1`.
 */
import { F, floatToInt8 } from './rounding.ts';
import { readFp16, writeFp16 } from './block-io.ts';
import { layoutOf } from '../block-layouts.ts';

const QK = 32;
const Q4_1 = layoutOf('Q4_1');
const FLT_MAX = 3.4028234663852886e38;

export function quantizeRowQ4_1Ref(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, nBlocks: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const x = srcOff + b * QK;
    const o = dstOff + b * Q4_1.size;
    let min = FLT_MAX, max = -FLT_MAX;
    for (let j = 0; j < QK; j++) {
      const v = src[x + j]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const d = F(F(max - min) / 15);
    const id = d !== 0 ? F(1 / d) : 0;
    writeFp16(dst, o, d);
    writeFp16(dst, o + 2, min);
    for (let j = 0; j < 16; j++) {
      const a = floatToInt8(F(F(F(src[x + j]! - min) * id) + 0.5));
      const c = floatToInt8(F(F(F(src[x + j + 16]! - min) * id) + 0.5));
      dst[o + 4 + j] = ((a < 15 ? a : 15) & 255) | (((c < 15 ? c : 15) << 4) & 255);
    }
  }
}

export function dequantizeRowQ4_1(src: Uint8Array, srcOff: number, dst: Float32Array, dstOff: number, nBlocks: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const o = srcOff + b * Q4_1.size;
    const y = dstOff + b * QK;
    const d = readFp16(src, o);
    const m = readFp16(src, o + 2);
    for (let j = 0; j < 16; j++) {
      const q = src[o + 4 + j]!;
      dst[y + j] = F((q & 15) * d) + m;
      dst[y + j + 16] = F((q >>> 4) * d) + m;
    }
  }
}
