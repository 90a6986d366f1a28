/**
 * Q5_K: like Q4_K with a 5th bit per code in qh (bit 2c+n of qh[l] for element 64c+32n+l);
 * value = d·sc·q − dmin·m. Ports `quantize_row_q5_K_ref` and `dequantize_row_q5_K`.
 */
import { F } from './rounding.ts';
import { readFp16 } from './block-io.ts';
import { minK4, scaleK4 } from './k-helpers.ts';
import { quantizeScaleMinBlock } from './q4_k.ts';
import { layoutOf } from '../block-layouts.ts';

const QK_K = 256;
const Q5_K = layoutOf('Q5_K');

const L = new Int32Array(QK_K);

export function quantizeRowQ5_KRef(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, nBlocks: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const o = dstOff + b * Q5_K.size; // d | dmin | scales[12] | qh[32] | qs[128]
    quantizeScaleMinBlock(src, srcOff + b * QK_K, dst, o, 31, -0.5, 15, L);
    packQ5KCodes(dst, o, L);
  }
}

/** Codes 0..31 in L[0..256) → qh (bit 2c+n of qh[l] for element 64c+32n+l) and low nibbles in qs. */
export function packQ5KCodes(dst: Uint8Array, o: number, L: Int32Array): void {
  for (let l = 0; l < 32; l++) dst[o + 16 + l] = 0;
  let m1 = 1, m2 = 2;
  for (let c = 0; c < 4; c++) {
    for (let l = 0; l < 32; l++) {
      let a = L[64 * c + l]!;
      if (a > 15) { a -= 16; dst[o + 16 + l] |= m1; }
      let e = L[64 * c + 32 + l]!;
      if (e > 15) { e -= 16; dst[o + 16 + l] |= m2; }
      dst[o + 48 + 32 * c + l] = a | (e << 4);
    }
    m1 <<= 2; m2 <<= 2;
  }
}

export function dequantizeRowQ5_K(src: Uint8Array, srcOff: number, dst: Float32Array, dstOff: number, nBlocks: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const o = srcOff + b * Q5_K.size;
    let y = dstOff + b * QK_K;
    const d = readFp16(src, o), min = readFp16(src, o + 2);
    let u1 = 1, u2 = 2;
    for (let c = 0; c < 4; c++) {
      const ql = o + 48 + 32 * c, qh = o + 16;
      const d1 = F(d * scaleK4(2 * c, src, o + 4)), m1 = F(min * minK4(2 * c, src, o + 4));
      const d2 = F(d * scaleK4(2 * c + 1, src, o + 4)), m2 = F(min * minK4(2 * c + 1, src, o + 4));
      for (let l = 0; l < 32; l++) dst[y++] = F(d1 * ((src[ql + l]! & 15) + ((src[qh + l]! & u1) !== 0 ? 16 : 0))) - m1;
      for (let l = 0; l < 32; l++) dst[y++] = F(d2 * ((src[ql + l]! >>> 4) + ((src[qh + l]! & u2) !== 0 ? 16 : 0))) - m2;
      u1 <<= 2; u2 <<= 2;
    }
  }
}
