/**
 * IQ4_NL and IQ4_XS dequantization (`dequantize_row_iq4_nl`, `dequantize_row_iq4_xs`). Both map
 * 4-bit codes through the non-linear `kvalues_iq4nl` table (ggml-common.h). The quantizers are in
 * iq4-quantize.ts.
 *   IQ4_NL (18 B / 32): d:fp16 | qs[16]; element j in the low nibble of qs[j], j+16 in the high.
 *   IQ4_XS (136 B / 256): d:fp16 | scales_h:u16 | scales_l[4] | qs[128]; 8 sub-blocks of 32 with a
 *   6-bit scale ls (low nibble from scales_l[ib/2], 2 high bits from scales_h) and value
 *   d·(ls−32)·kvalues[q], the 32 codes packed like IQ4_NL.
 */
import { F } from './rounding.ts';
import { readFp16 } from './block-io.ts';
import { layoutOf } from '../block-layouts.ts';

export const KVALUES_IQ4NL: Int8Array = Int8Array.from([-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113]);
const IQ4_NL = layoutOf('IQ4_NL');
const IQ4_XS = layoutOf('IQ4_XS');

export function dequantizeRowIQ4_NL(src: Uint8Array, srcOff: number, dst: Float32Array, dstOff: number, nBlocks: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const o = srcOff + b * IQ4_NL.size;
    const y = dstOff + b * 32;
    const d = readFp16(src, o);
    for (let j = 0; j < 16; j++) {
      const q = src[o + 2 + j]!;
      dst[y + j] = d * KVALUES_IQ4NL[q & 15]!;
      dst[y + j + 16] = d * KVALUES_IQ4NL[q >>> 4]!;
    }
  }
}

export function dequantizeRowIQ4_XS(src: Uint8Array, srcOff: number, dst: Float32Array, dstOff: number, nBlocks: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const o = srcOff + b * IQ4_XS.size;
    const d = readFp16(src, o);
    const scalesH = src[o + 2]! | (src[o + 3]! << 8);
    for (let ib = 0; ib < 8; ib++) {
      const ls = ((src[o + 4 + (ib >>> 1)]! >>> (4 * (ib & 1))) & 15) | (((scalesH >>> (2 * ib)) & 3) << 4);
      const dl = F(d * (ls - 32));
      const qs = o + 8 + 16 * ib, y = dstOff + b * 256 + 32 * ib;
      for (let j = 0; j < 16; j++) {
        const q = src[qs + j]!;
        dst[y + j] = dl * KVALUES_IQ4NL[q & 15]!;
        dst[y + j + 16] = dl * KVALUES_IQ4NL[q >>> 4]!;
      }
    }
  }
}
