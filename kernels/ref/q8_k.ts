/**
 * Q8_K (292 B / 256): d:f32 | qs[256]:int8 | bsums[16]:int16 (sums of each 16 codes). The activation
 * type of the K-quant dot products, never stored in model files. Ports `quantize_row_q8_K_ref` and
 * `dequantize_row_q8_K` (value = d·qs).
 */
import { F, nearestInt, toInt8 } from './rounding.ts';
import { layoutOf } from '../block-layouts.ts';

const Q8_K = layoutOf('Q8_K');

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function quantizeRowQ8_KRef(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, nBlocks: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const x = srcOff + b * 256;
    const o = dstOff + b * Q8_K.size;
    let max = 0, amax = 0;
    for (let j = 0; j < 256; j++) {
      const v = src[x + j]!;
      const a = Math.abs(v);
      if (a > amax) { amax = a; max = v; }
    }
    if (amax === 0) {
      // Upstream zeroes d and qs and leaves bsums untouched; we write zeros there too.
      dst.fill(0, o, o + Q8_K.size);
      continue;
    }
    const iscale = F(-127 / max);
    for (let j = 0; j < 256; j++) {
      const v = nearestInt(F(iscale * src[x + j]!));
      dst[o + 4 + j] = (v < 127 ? v : 127) & 255;
    }
    for (let g = 0; g < 16; g++) {
      let sum = 0;
      for (let k = 0; k < 16; k++) sum += toInt8(dst[o + 4 + 16 * g + k]!);
      dst[o + 260 + 2 * g] = sum & 255;
      dst[o + 261 + 2 * g] = (sum >>> 8) & 255;
    }
    f32[0] = 1 / iscale;
    const d = u32[0]!;
    dst[o] = d & 255; dst[o + 1] = (d >>> 8) & 255; dst[o + 2] = (d >>> 16) & 255; dst[o + 3] = d >>> 24;
  }
}

export function dequantizeRowQ8_K(src: Uint8Array, srcOff: number, dst: Float32Array, dstOff: number, nBlocks: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const o = srcOff + b * Q8_K.size;
    u32[0] = src[o]! | (src[o + 1]! << 8) | (src[o + 2]! << 16) | (src[o + 3]! << 24);
    const d = f32[0]!;
    const y = dstOff + b * 256;
    for (let j = 0; j < 256; j++) dst[y + j] = d * ((src[o + 4 + j]! << 24) >> 24);
  }
}
