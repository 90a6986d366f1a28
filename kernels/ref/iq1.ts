/**
 * IQ1_S and IQ1_M dequantization (`dequantize_row_iq1_s`, `dequantize_row_iq1_m`). Groups of 8
 * values are points of the 2048-point iq1s_grid (values −1, 0, +1), shifted by ±IQ1S_DELTA (1/8)
 * and scaled per sub-block. The quantizers are in iq1-quantize.ts.
 *   IQ1_S (50 B / 256): d:fp16 | qs[32] (low 8 index bits) | qh u16[8], one per 32 values: bits
 *   3l..3l+2 the high index bits of group l, bits 12..14 the scale ls (d·(2ls+1)), bit 15 the sign
 *   of the delta.
 *   IQ1_M (56 B / 256): qs[32] | qh[16] (per 16 values: 3 high index bits + delta sign for each
 *   of its 2 groups) | scales: 4 × u16 holding 3-bit scales for 16-value halves (d·(2ls+1)) and,
 *   in their top nibbles, the fp16 super-block d.
 */
import { F } from './rounding.ts';
import { readFp16 } from './block-io.ts';
import { fp16ToFp32 } from '../fp16.ts';
import { IQ1S_GRID } from './iq-grids/iq2-grids.ts';
import { layoutOf } from '../block-layouts.ts';

const IQ1_S = layoutOf('IQ1_S');
const IQ1_M = layoutOf('IQ1_M');
export const IQ1S_DELTA = F(0.125);

/** y[y0..y0+8) = dl · (grid point g + delta). */
function put8(dst: Float32Array, y0: number, dl: number, g: number, delta: number): void {
  for (let j = 0; j < 8; j++) dst[y0 + j] = F(dl * (IQ1S_GRID[8 * g + j]! + delta));
}

export function dequantizeRowIQ1_S(src: Uint8Array, srcOff: number, dst: Float32Array, dstOff: number, nBlocks: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const o = srcOff + b * IQ1_S.size;
    const d = readFp16(src, o);
    for (let ib = 0; ib < 8; ib++) {
      const qh = src[o + 34 + 2 * ib]! | (src[o + 35 + 2 * ib]! << 8);
      const dl = F(d * (2 * ((qh >> 12) & 7) + 1));
      const delta = qh & 0x8000 ? -IQ1S_DELTA : IQ1S_DELTA;
      for (let l = 0; l < 4; l++) {
        put8(dst, dstOff + b * 256 + 32 * ib + 8 * l, dl, src[o + 2 + 4 * ib + l]! | (((qh >> (3 * l)) & 7) << 8), delta);
      }
    }
  }
}

export function dequantizeRowIQ1_M(src: Uint8Array, srcOff: number, dst: Float32Array, dstOff: number, nBlocks: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const o = srcOff + b * IQ1_M.size;
    const qs = o, qhs = o + 32, scs = o + 48;
    const sc = (i: number) => src[scs + 2 * i]! | (src[scs + 2 * i + 1]! << 8);
    const s16 = (sc(0) >> 12) | ((sc(1) >> 8) & 0x00f0) | ((sc(2) >> 4) & 0x0f00) | (sc(3) & 0xf000);
    const d = fp16ToFp32(s16);
    for (let ib = 0; ib < 8; ib++) {
      const s = sc(ib >> 1);
      const dl1 = F(d * (2 * ((s >> (6 * (ib % 2))) & 7) + 1));
      const dl2 = F(d * (2 * ((s >> (6 * (ib % 2) + 3)) & 7) + 1));
      const h0 = src[qhs + 2 * ib]!, h1 = src[qhs + 2 * ib + 1]!;
      const y = dstOff + b * 256 + 32 * ib;
      put8(dst, y, dl1, src[qs + 4 * ib]! | ((h0 << 8) & 0x700), h0 & 0x08 ? -IQ1S_DELTA : IQ1S_DELTA);
      put8(dst, y + 8, dl1, src[qs + 4 * ib + 1]! | ((h0 << 4) & 0x700), h0 & 0x80 ? -IQ1S_DELTA : IQ1S_DELTA);
      put8(dst, y + 16, dl2, src[qs + 4 * ib + 2]! | ((h1 << 8) & 0x700), h1 & 0x08 ? -IQ1S_DELTA : IQ1S_DELTA);
      put8(dst, y + 24, dl2, src[qs + 4 * ib + 3]! | ((h1 << 4) & 0x700), h1 & 0x80 ? -IQ1S_DELTA : IQ1S_DELTA);
    }
  }
}
