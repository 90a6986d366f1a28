/**
 * Q3_K: 256 values in 16 sub-blocks of 16; signed 6-bit sub-scales packed in 12 bytes, fp16 d
 * (stored last), 3-bit codes split into 2 low bits (qs) and a high bit (hmask);
 * value = d·(sc−32)·(q−4). Ports `quantize_row_q3_K_ref` and `dequantize_row_q3_K`.
 */
import { F, nearestInt, toInt8, clampInt } from './rounding.ts';
import { readFp16, writeFp16 } from './block-io.ts';
import { makeQ3Quants, pack2Bit } from './k-helpers.ts';
import { layoutOf } from '../block-layouts.ts';

const QK_K = 256;
const Q3_K = layoutOf('Q3_K');

const L = new Int32Array(QK_K);
const scales = new Float64Array(16);

/** The signed 6-bit scale of sub-block j from the 12 scale bytes at q[o..]. */
export function subScale(q: Uint8Array, o: number, j: number): number {
  const lo = j < 8 ? q[o + j]! & 15 : q[o + j - 8]! >>> 4;
  return (lo | (((q[o + 8 + (j & 3)]! >>> (2 * (j >>> 2))) & 3) << 4)) - 32;
}

export function quantizeRowQ3_KRef(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, nBlocks: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const x = srcOff + b * QK_K;
    const o = dstOff + b * Q3_K.size; // hmask[32] | qs[64] | scales[12] | d
    const so = o + 96;
    let maxScale = 0, amax = 0;
    for (let j = 0; j < 16; j++) {
      const s = makeQ3Quants(16, 4, src, x + 16 * j, L, 16 * j);
      scales[j] = s;
      const a = Math.abs(s);
      if (a > amax) { amax = a; maxScale = s; }
    }
    for (let k = 0; k < 12; k++) dst[so + k] = 0;
    if (maxScale !== 0) {
      const iscale = F(-32 / maxScale);
      for (let j = 0; j < 16; j++) {
        let l = toInt8(nearestInt(F(iscale * scales[j]!)));
        l = clampInt(l, -32, 31) + 32;
        if (j < 8) dst[so + j] = l & 15;
        else dst[so + j - 8] |= (l & 15) << 4;
        dst[so + 8 + (j & 3)] |= (l >> 4) << (2 * (j >>> 2));
      }
      writeFp16(dst, o + 108, F(1 / iscale));
    } else {
      writeFp16(dst, o + 108, 0);
    }
    const D = readFp16(dst, o + 108);
    for (let j = 0; j < 16; j++) {
      const d = F(D * subScale(dst, so, j));
      if (d === 0) continue; // keep the codes make_q3_quants chose
      for (let ii = 0; ii < 16; ii++) {
        const l = nearestInt(F(src[x + 16 * j + ii]! / d));
        L[16 * j + ii] = clampInt(l, -4, 3) + 4;
      }
    }
    packQ3KCodes(dst, o, L);
  }
}

/** Codes 0..7 in L[0..256) → hmask (bit 2 of code j at bit j/32 of byte j%32) and 2-bit qs. Mutates L. */
export function packQ3KCodes(dst: Uint8Array, o: number, L: Int32Array): void {
  for (let k = 0; k < 32; k++) dst[o + k] = 0;
  for (let j = 0; j < QK_K; j++) {
    if (L[j]! > 3) {
      dst[o + (j & 31)] |= 1 << (j >>> 5);
      L[j] = L[j]! - 4;
    }
  }
  pack2Bit(dst, o + 32, L);
}

export function dequantizeRowQ3_K(src: Uint8Array, srcOff: number, dst: Float32Array, dstOff: number, nBlocks: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const o = srcOff + b * Q3_K.size;
    let y = dstOff + b * QK_K;
    const dAll = readFp16(src, o + 108);
    let is = 0, m = 1;
    for (let n = 0; n < QK_K; n += 128) {
      const q = o + 32 + n / 4;
      for (let shift = 0; shift < 8; shift += 2) {
        for (let half = 0; half < 32; half += 16) {
          const dl = F(dAll * subScale(src, o + 96, is++));
          for (let l = 0; l < 16; l++) {
            const k = half + l;
            dst[y++] = dl * (((src[q + k]! >>> shift) & 3) - ((src[o + k]! & m) !== 0 ? 0 : 4));
          }
        }
        m <<= 1;
      }
    }
  }
}
