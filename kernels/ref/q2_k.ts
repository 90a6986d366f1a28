/**
 * Q2_K: 256 values in 16 sub-blocks of 16; 4-bit sub-scale and sub-min per sub-block, fp16 d and
 * dmin (stored last), 2-bit codes; value = d·sc·q − dmin·m.
 * Ports `quantize_row_q2_K_ref` and `dequantize_row_q2_K`.
 */
import { F, nearestInt, clampInt } from './rounding.ts';
import { readFp16, writeFp16 } from './block-io.ts';
import { makeQkx2Quants, pack2Bit } from './k-helpers.ts';
import { layoutOf } from '../block-layouts.ts';

const QK_K = 256;
const Q2_K = layoutOf('Q2_K');
const F0_1 = F(0.1);

const L = new Int32Array(QK_K);
const Laux = new Int32Array(16);
const weights = new Float64Array(16);
const scales = new Float64Array(16);
const mins = new Float64Array(16);

export function quantizeRowQ2_KRef(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, nBlocks: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const x = srcOff + b * QK_K;
    const o = dstOff + b * Q2_K.size; // scales[16] | qs[64] | d | dmin
    let maxScale = 0, maxMin = 0;
    for (let j = 0; j < 16; j++) {
      for (let l = 0; l < 16; l++) weights[l] = Math.abs(src[x + 16 * j + l]!);
      const s = makeQkx2Quants(16, 3, src, x + 16 * j, weights, L, 16 * j, Laux, -0.5, F0_1, 15, true, mins, j);
      scales[j] = s;
      if (s > maxScale) maxScale = s;
      const m = mins[j]!;
      if (m > maxMin) maxMin = m;
    }
    if (maxScale > 0) {
      const iscale = F(15 / maxScale);
      for (let j = 0; j < 16; j++) dst[o + j] = nearestInt(F(iscale * scales[j]!)) & 255;
      writeFp16(dst, o + 80, F(maxScale / 15));
    } else {
      for (let j = 0; j < 16; j++) dst[o + j] = 0;
      writeFp16(dst, o + 80, 0);
    }
    if (maxMin > 0) {
      const iscale = F(15 / maxMin);
      for (let j = 0; j < 16; j++) dst[o + j] |= (nearestInt(F(iscale * mins[j]!)) << 4) & 255;
      writeFp16(dst, o + 82, F(maxMin / 15));
    } else {
      writeFp16(dst, o + 82, 0);
    }
    const D = readFp16(dst, o + 80), M = readFp16(dst, o + 82);
    for (let j = 0; j < 16; j++) {
      const sc = dst[o + j]!;
      const d = F(D * (sc & 15));
      if (d === 0) continue; // keep the codes make_qkx2_quants chose
      const dm = F(M * (sc >>> 4));
      for (let ii = 0; ii < 16; ii++) {
        const l = nearestInt(F(F(src[x + 16 * j + ii]! + dm) / d));
        L[16 * j + ii] = clampInt(l, 0, 3);
      }
    }
    pack2Bit(dst, o + 16, L);
  }
}

export function dequantizeRowQ2_K(src: Uint8Array, srcOff: number, dst: Float32Array, dstOff: number, nBlocks: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const o = srcOff + b * Q2_K.size;
    let y = dstOff + b * QK_K;
    const d = readFp16(src, o + 80), min = readFp16(src, o + 82);
    let is = 0;
    for (let n = 0; n < QK_K; n += 128) {
      const q = o + 16 + n / 4;
      for (let shift = 0; shift < 8; shift += 2) {
        for (let half = 0; half < 32; half += 16) {
          const sc = src[o + is++]!;
          const dl = F(d * (sc & 15)), ml = F(min * (sc >>> 4));
          for (let l = 0; l < 16; l++) dst[y++] = F(dl * ((src[q + half + l]! >>> shift) & 3)) - ml;
        }
      }
    }
  }
}
