/**
 * Q4_K: 256 values in 8 sub-blocks of 32; 6-bit scale and min per sub-block (K_SCALE packing),
 * fp16 d and dmin, 4-bit codes; value = d·sc·q − dmin·m.
 * Ports `quantize_row_q4_K_ref` and `dequantize_row_q4_K`.
 */
import { F, nearestInt, clampInt } from './rounding.ts';
import { readFp16, writeFp16 } from './block-io.ts';
import { makeQkx2Quants, minK4, packScaleMinK4, scaleK4 } from './k-helpers.ts';
import { layoutOf } from '../block-layouts.ts';

const QK_K = 256;
const Q4_K = layoutOf('Q4_K');
const F0_1 = F(0.1);

const L = new Int32Array(QK_K);
const Laux = new Int32Array(32);
const weights = new Float64Array(32);
const scales = new Float64Array(8);
const mins = new Float64Array(8);
const ls = new Int32Array(8);
const lm = new Int32Array(8);

/**
 * The part Q4_K and Q5_K share: per-sub-block scale/min search with weights av_x + |x|, 6-bit
 * scale/min quantization, d/dmin, then requantization of the codes with the stored scales.
 * Writes d, dmin and the 12 scale bytes at dst[o..o+16) and leaves the codes (0..nmax) in `codes`.
 */
export function quantizeScaleMinBlock(
  src: Float32Array, x: number, dst: Uint8Array, o: number, nmax: number, rmin: number, nstep: number, codes: Int32Array,
): void {
  let maxScale = 0, maxMin = 0;
  for (let j = 0; j < 8; j++) {
    const s0 = x + 32 * j;
    let sumX2 = 0;
    for (let l = 0; l < 32; l++) { const v = src[s0 + l]!; sumX2 = F(sumX2 + F(v * v)); }
    const avX = F(Math.sqrt(F(sumX2 / 32)));
    for (let l = 0; l < 32; l++) weights[l] = F(avX + Math.abs(src[s0 + l]!));
    const s = makeQkx2Quants(32, nmax, src, s0, weights, codes, 32 * j, Laux, rmin, F0_1, nstep, false, mins, j);
    scales[j] = s;
    if (s > maxScale) maxScale = s;
    const m = mins[j]!;
    if (m > maxMin) maxMin = m;
  }
  const invScale = maxScale > 0 ? F(63 / maxScale) : 0;
  const invMin = maxMin > 0 ? F(63 / maxMin) : 0;
  for (let j = 0; j < 8; j++) {
    const a = nearestInt(F(invScale * scales[j]!)) & 255; // uint8_t, then MIN(63, ·)
    const c = nearestInt(F(invMin * mins[j]!)) & 255;
    ls[j] = a < 63 ? a : 63;
    lm[j] = c < 63 ? c : 63;
  }
  packScaleMinK4(dst, o + 4, ls, lm);
  writeFp16(dst, o, F(maxScale / 63));
  writeFp16(dst, o + 2, F(maxMin / 63));
  const D = readFp16(dst, o), M = readFp16(dst, o + 2);
  for (let j = 0; j < 8; j++) {
    const d = F(D * scaleK4(j, dst, o + 4));
    if (d === 0) continue; // keep the codes make_qkx2_quants chose
    const dm = F(M * minK4(j, dst, o + 4));
    for (let ii = 0; ii < 32; ii++) {
      const l = nearestInt(F(F(src[x + 32 * j + ii]! + dm) / d));
      codes[32 * j + ii] = clampInt(l, 0, nmax);
    }
  }
}

export function quantizeRowQ4_KRef(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, nBlocks: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const o = dstOff + b * Q4_K.size; // d | dmin | scales[12] | qs[128]
    quantizeScaleMinBlock(src, srcOff + b * QK_K, dst, o, 15, -1, 20, L);
    packQ4KCodes(dst, o, L);
  }
}

/** Codes 0..15 in L[0..256) → qs at dst[o+16..): element 64c+l low nibble, 64c+32+l high nibble. */
export function packQ4KCodes(dst: Uint8Array, o: number, L: Int32Array): void {
  for (let c = 0; c < 4; c++) {
    for (let l = 0; l < 32; l++) dst[o + 16 + 32 * c + l] = L[64 * c + l]! | (L[64 * c + 32 + l]! << 4);
  }
}

export function dequantizeRowQ4_K(src: Uint8Array, srcOff: number, dst: Float32Array, dstOff: number, nBlocks: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const o = srcOff + b * Q4_K.size;
    let y = dstOff + b * QK_K;
    const d = readFp16(src, o), min = readFp16(src, o + 2);
    for (let c = 0; c < 4; c++) {
      const q = o + 16 + 32 * c;
      const d1 = F(d * scaleK4(2 * c, src, o + 4)), m1 = F(min * minK4(2 * c, src, o + 4));
      const d2 = F(d * scaleK4(2 * c + 1, src, o + 4)), m2 = F(min * minK4(2 * c + 1, src, o + 4));
      for (let l = 0; l < 32; l++) dst[y++] = F(d1 * (src[q + l]! & 15)) - m1;
      for (let l = 0; l < 32; l++) dst[y++] = F(d2 * (src[q + l]! >>> 4)) - m2;
    }
  }
}
