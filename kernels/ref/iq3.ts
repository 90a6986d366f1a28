/**
 * IQ3_XXS and IQ3_S dequantization (`dequantize_row_iq3_xxs`, `dequantize_row_iq3_s`). Groups of 4
 * values are points of a grid (iq3xxs_grid / iq3s_grid, 4 unsigned byte values each); signs come
 * separately. The quantizers are in iq3-quantize.ts.
 *   IQ3_XXS (98 B / 256): d:fp16 | qs[64] (grid index per group of 4) | 8 × u32 (bits 0..27: four
 *   7-bit sign codes through ksigns_iq2xs, the 8th sign being the parity; bits 28..31: scale ls);
 *   sub-block of 32 scale d·(0.5 + ls)·0.5.
 *   IQ3_S (110 B / 256): d:fp16 | qs[64] | qh[8] (9th index bit) | signs[32] | scales[4] (4 bits
 *   per 32-value sub-block); sub-block scale d·(1 + 2·ls).
 */
import { F } from './rounding.ts';
import { readFp16 } from './block-io.ts';
import { IQ3S_GRID, IQ3XXS_GRID } from './iq-grids/iq3-grids.ts';
import { KSIGNS_IQ2XS } from './iq-grids/iq2-grids.ts';
import { layoutOf } from '../block-layouts.ts';

const IQ3_XXS = layoutOf('IQ3_XXS');
const IQ3_S = layoutOf('IQ3_S');

/** y[y0..y0+4) = db · grid byte j, negated where sign bit (shift + j) of `signs` is set. */
function put4(dst: Float32Array, y0: number, db: number, g: number, signs: number, shift: number): void {
  for (let j = 0; j < 4; j++) {
    const v = F(db * ((g >>> (8 * j)) & 255));
    dst[y0 + j] = signs & (1 << (shift + j)) ? -v : v;
  }
}

export function dequantizeRowIQ3_XXS(src: Uint8Array, srcOff: number, dst: Float32Array, dstOff: number, nBlocks: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const o = srcOff + b * IQ3_XXS.size;
    const d = readFp16(src, o);
    const qs = o + 2, sas = o + 2 + 64;
    for (let ib = 0; ib < 8; ib++) {
      const p = sas + 4 * ib;
      const aux = (src[p]! | (src[p + 1]! << 8) | (src[p + 2]! << 16) | (src[p + 3]! << 24)) >>> 0;
      const db = F(F(d * F(0.5 + (aux >>> 28))) * 0.5);
      for (let l = 0; l < 4; l++) {
        const signs = KSIGNS_IQ2XS[(aux >>> (7 * l)) & 127]!;
        const y = dstOff + b * 256 + 32 * ib + 8 * l;
        put4(dst, y, db, IQ3XXS_GRID[src[qs + 8 * ib + 2 * l]!]!, signs, 0);
        put4(dst, y + 4, db, IQ3XXS_GRID[src[qs + 8 * ib + 2 * l + 1]!]!, signs, 4);
      }
    }
  }
}

export function dequantizeRowIQ3_S(src: Uint8Array, srcOff: number, dst: Float32Array, dstOff: number, nBlocks: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const o = srcOff + b * IQ3_S.size;
    const d = readFp16(src, o);
    const qs = o + 2, qh = o + 66, signs = o + 74, scales = o + 106;
    for (let ib = 0; ib < 8; ib++) {
      const sc = src[scales + (ib >> 1)]!;
      const db = F(d * (1 + 2 * (ib & 1 ? sc >>> 4 : sc & 15)));
      const h = src[qh + ib]!;
      for (let l = 0; l < 4; l++) {
        const i1 = src[qs + 8 * ib + 2 * l]! | ((h << (8 - 2 * l)) & 256);
        const i2 = src[qs + 8 * ib + 2 * l + 1]! | ((h << (7 - 2 * l)) & 256);
        const s = src[signs + 4 * ib + l]!;
        const y = dstOff + b * 256 + 32 * ib + 8 * l;
        put4(dst, y, db, IQ3S_GRID[i1]!, s, 0);
        put4(dst, y + 4, db, IQ3S_GRID[i2]!, s, 4);
      }
    }
  }
}
