/** Q8_0: 32 values, fp16 scale d, int8 codes. Ports `quantize_row_q8_0_ref` and `dequantize_row_q8_0`. */
import { F, floatToInt8, roundf } from './rounding.ts';
import { readFp16, writeFp16 } from './block-io.ts';
import { layoutOf } from '../block-layouts.ts';

const QK = 32;
const Q8_0 = layoutOf('Q8_0');

export function quantizeRowQ8_0Ref(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, nBlocks: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const x = srcOff + b * QK;
    const o = dstOff + b * Q8_0.size;
    let amax = 0;
    for (let j = 0; j < QK; j++) {
      const a = Math.abs(src[x + j]!);
      amax = amax > a ? amax : a; // MAX(amax, fabsf(v)): a NaN on the right replaces amax
    }
    const d = F(amax / 127);
    const id = d !== 0 ? F(1 / d) : 0; // `d ? 1/d : 0` (NaN is truthy in C too)
    writeFp16(dst, o, d);
    for (let j = 0; j < QK; j++) {
      // `qs[j] = roundf(x*id)`: float → int8_t conversion of the rounded float.
      dst[o + 2 + j] = floatToInt8(roundf(F(src[x + j]! * id))) & 255;
    }
  }
}

export function dequantizeRowQ8_0(src: Uint8Array, srcOff: number, dst: Float32Array, dstOff: number, nBlocks: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const o = srcOff + b * Q8_0.size;
    const y = dstOff + b * QK;
    const d = readFp16(src, o);
    for (let j = 0; j < QK; j++) dst[y + j] = ((src[o + 2 + j]! << 24) >> 24) * d;
  }
}
