/**
 * IQ2_XXS, IQ2_XS and IQ2_S dequantization (`dequantize_row_iq2_xxs`, `dequantize_row_iq2_xs`,
 * `dequantize_row_iq2_s`, ggml-quants.c). Each group of 8 values is one lattice point (byte values
 * from the iq2*_grid tables) with 8 signs, times a 4-bit group scale: db = d·(0.5 + s)·0.25.
 *   IQ2_XXS (66 B / 256): d:fp16 | qs:u32[16]; per 32 values two u32: 4 point bytes, then 4×7 sign
 *     bits (through ksigns_iq2xs, which adds the even-parity 8th sign) and the scale in bits 28..31.
 *   IQ2_XS (74 B / 256): d | qs:u16[32] (9-bit point, 7-bit sign index) | scales[8] (two nibbles:
 *     first and second 16 values of each 32).
 *   IQ2_S (82 B / 256): d | qs[32] (low 8 bits of the point) | signs[32] (8 plain sign bits) |
 *     qh[8] (2 high point bits per group) | scales[8].
 * The quantizers are in iq2-quantize.ts.
 */
import { F } from './rounding.ts';
import { readFp16 } from './block-io.ts';
import { layoutOf } from '../block-layouts.ts';
import { IQ2S_GRID, IQ2XS_GRID, IQ2XXS_GRID, KSIGNS_IQ2XS } from './iq-grids/iq2-grids.ts';

const IQ2_XXS = layoutOf('IQ2_XXS');
const IQ2_XS = layoutOf('IQ2_XS');
const IQ2_S = layoutOf('IQ2_S');

/** y[0..8) = db · grid point · (−1 where the sign bit is set). */
function put8(dst: Float32Array, y: number, db: number, grid: Uint8Array, point: number, signs: number): void {
  for (let j = 0; j < 8; j++) {
    const v = F(db * grid[8 * point + j]!);
    dst[y + j] = signs & (1 << j) ? -v : v;
  }
}

/** `d * (0.5f + s) * 0.25f` in binary32. */
function groupScale(d: number, s: number): number {
  return F(F(d * (0.5 + s)) * 0.25);
}

export function dequantizeRowIQ2_XXS(src: Uint8Array, srcOff: number, dst: Float32Array, dstOff: number, nBlocks: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const o = srcOff + b * IQ2_XXS.size;
    const d = readFp16(src, o);
    for (let ib = 0; ib < 8; ib++) {
      const q = o + 2 + 8 * ib;
      const aux1 = (src[q + 4]! | (src[q + 5]! << 8) | (src[q + 6]! << 16) | (src[q + 7]! << 24)) >>> 0;
      const db = groupScale(d, aux1 >>> 28);
      for (let l = 0; l < 4; l++) {
        put8(dst, dstOff + 256 * b + 32 * ib + 8 * l, db, IQ2XXS_GRID, src[q + l]!, KSIGNS_IQ2XS[(aux1 >>> (7 * l)) & 127]!);
      }
    }
  }
}

export function dequantizeRowIQ2_XS(src: Uint8Array, srcOff: number, dst: Float32Array, dstOff: number, nBlocks: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const o = srcOff + b * IQ2_XS.size;
    const d = readFp16(src, o);
    for (let ib = 0; ib < 8; ib++) {
      const sc = src[o + 66 + ib]!;
      const db0 = groupScale(d, sc & 15), db1 = groupScale(d, sc >>> 4);
      for (let l = 0; l < 4; l++) {
        const q = src[o + 2 + 2 * (4 * ib + l)]! | (src[o + 3 + 2 * (4 * ib + l)]! << 8);
        put8(dst, dstOff + 256 * b + 32 * ib + 8 * l, l < 2 ? db0 : db1, IQ2XS_GRID, q & 511, KSIGNS_IQ2XS[q >>> 9]!);
      }
    }
  }
}

export function dequantizeRowIQ2_S(src: Uint8Array, srcOff: number, dst: Float32Array, dstOff: number, nBlocks: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const o = srcOff + b * IQ2_S.size;
    const d = readFp16(src, o);
    const qs = o + 2, signs = o + 34, qh = o + 66, scales = o + 74;
    for (let ib = 0; ib < 8; ib++) {
      const sc = src[scales + ib]!;
      const db0 = groupScale(d, sc & 15), db1 = groupScale(d, sc >>> 4);
      for (let l = 0; l < 4; l++) {
        const point = src[qs + 4 * ib + l]! | ((src[qh + ib]! << (8 - 2 * l)) & 0x300);
        put8(dst, dstOff + 256 * b + 32 * ib + 8 * l, l < 2 ? db0 : db1, IQ2S_GRID, point, src[signs + 4 * ib + l]!);
      }
    }
  }
}
