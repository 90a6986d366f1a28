/**
 * Q2_K, Q3_K, Q4_K and Q5_K with an importance matrix: ports of `quantize_row_q2_K_impl`,
 * `quantize_row_q3_K_impl`, `quantize_row_q4_K_impl` and `quantize_row_q5_K_impl` (ggml-quants.c),
 * one row at a time as `quantize_q2_K` & co. call them when `quant_weights` is set. Per 256-value
 * super-block: σ² from its x² (Q2_K: mean; the others: 2·mean), weights qw·sqrtf(σ² + x²), a
 * weighted scale (and min) search per sub-block, the sub-scales quantized against one block
 * scale weighted by each sub-block's Σw, then the codes re-picked from the stored fp16 scales.
 * (Q6_K's variant lives beside its reference in q6_k.ts: it differs only in the weights.)
 */
import { F, nearestInt, clampInt } from './rounding.ts';
import { readFp16, writeFp16 } from './block-io.ts';
import { makeQkx2Quants, makeQxQuants, minK4, packScaleMinK4, pack2Bit, scaleK4 } from './k-helpers.ts';
import { makeQpQuants } from './qp-quants.ts';
import { importanceWeights, sumSquares } from './imatrix-weights.ts';
import { packQ3KCodes, subScale } from './q3_k.ts';
import { packQ4KCodes } from './q4_k.ts';
import { packQ5KCodes } from './q5_k.ts';
import { layoutOf } from '../block-layouts.ts';

const QK_K = 256;
const Q2_K = layoutOf('Q2_K').size, Q3_K = layoutOf('Q3_K').size, Q4_K = layoutOf('Q4_K').size, Q5_K = layoutOf('Q5_K').size;
const RMIN = F(-0.9);
const RDELTA = F(0.05);

const L = new Int32Array(QK_K);
const Laux = new Int32Array(32);
const w = new Float64Array(32);
const sw = new Float64Array(16);
const scales = new Float64Array(16);
const mins = new Float64Array(16);
const Ls = new Int32Array(16);
const Lm = new Int32Array(16);

/** Σ of n binary32 weights in order (`sumw += weight[l]`). */
function sumOf(n: number): number {
  let s = 0;
  for (let l = 0; l < n; l++) s = F(s + w[l]!);
  return s;
}

export function quantizeRowQ2_KImatrix(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, nPerRow: number, qw: Float32Array): void {
  for (let i = 0; i < nPerRow / QK_K; i++) {
    const x = srcOff + QK_K * i;
    const o = dstOff + Q2_K * i; // scales[16] | qs[64] | d | dmin
    const sigma2 = F(sumSquares(src, x, QK_K) / QK_K);
    for (let j = 0; j < 16; j++) {
      importanceWeights(src, x + 16 * j, qw, QK_K * i + 16 * j, sigma2, 16, w, 0);
      sw[j] = sumOf(16);
      scales[j] = makeQkx2Quants(16, 3, src, x + 16 * j, w, L, 16 * j, Laux, RMIN, RDELTA, 36, false, mins, j);
    }
    writeFp16(dst, o + 80, makeQpQuants(16, 15, scales, Ls, sw));
    writeFp16(dst, o + 82, makeQpQuants(16, 15, mins, Lm, sw));
    const dm = readFp16(dst, o + 80), mm = readFp16(dst, o + 82);
    for (let j = 0; j < 16; j++) dst[o + j] = (Ls[j]! | (Lm[j]! << 4)) & 255;
    for (let j = 0; j < 16; j++) {
      const d = F(dm * (dst[o + j]! & 15));
      if (d === 0) continue; // keep the codes the search chose
      const m = F(mm * (dst[o + j]! >>> 4));
      for (let ii = 0; ii < 16; ii++) L[16 * j + ii] = clampInt(nearestInt(F(F(src[x + 16 * j + ii]! + m) / d)), 0, 3);
    }
    pack2Bit(dst, o + 16, L);
  }
}

export function quantizeRowQ3_KImatrix(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, nPerRow: number, qw: Float32Array): void {
  for (let i = 0; i < nPerRow / QK_K; i++) {
    const x = srcOff + QK_K * i;
    const o = dstOff + Q3_K * i; // hmask[32] | qs[64] | scales[12] | d
    const so = o + 96;
    const sigma2 = F(F(2 * sumSquares(src, x, QK_K)) / QK_K);
    for (let j = 0; j < 16; j++) {
      importanceWeights(src, x + 16 * j, qw, QK_K * i + 16 * j, sigma2, 16, w, 0);
      sw[j] = sumOf(16);
      scales[j] = makeQxQuants(16, 4, src, x + 16 * j, L, 16 * j, w, 0);
    }
    for (let k = 0; k < 12; k++) dst[so + k] = 0;
    const dBlock = makeQxQuants(16, 32, scales, 0, Ls, 0, sw, 0);
    for (let j = 0; j < 16; j++) {
      const l = Ls[j]!;
      if (j < 8) dst[so + j] = l & 15;
      else dst[so + j - 8] |= (l & 15) << 4;
      dst[so + 8 + (j & 3)] |= ((l >> 4) << (2 * (j >>> 2))) & 255;
    }
    writeFp16(dst, o + 108, dBlock);
    const D = readFp16(dst, o + 108);
    for (let j = 0; j < 16; j++) {
      const d = F(D * subScale(dst, so, j));
      if (d === 0) continue;
      for (let ii = 0; ii < 16; ii++) L[16 * j + ii] = clampInt(nearestInt(F(src[x + 16 * j + ii]! / d)), -4, 3) + 4;
    }
    packQ3KCodes(dst, o, L);
  }
}

/** The part Q4_K (nmax 15) and Q5_K (nmax 31) share; leaves the codes in L. */
function scaleMinBlockImatrix(src: Float32Array, x: number, dst: Uint8Array, o: number, qw: Float32Array, qwOff: number, nmax: number): void {
  const sigma2 = F(F(2 * sumSquares(src, x, QK_K)) / QK_K);
  for (let j = 0; j < 8; j++) {
    importanceWeights(src, x + 32 * j, qw, qwOff + 32 * j, sigma2, 32, w, 0);
    sw[j] = sumOf(32);
    scales[j] = makeQkx2Quants(32, nmax, src, x + 32 * j, w, L, 32 * j, Laux, RMIN, RDELTA, 36, false, mins, j);
  }
  const dBlock = makeQpQuants(8, 63, scales, Ls, sw);
  const mBlock = makeQpQuants(8, 63, mins, Lm, sw);
  // Q5_K clamps with MIN(63, ·); make_qp_quants never exceeds nmax = 63, so Q4_K's lack of it is moot.
  packScaleMinK4(dst, o + 4, Ls, Lm);
  writeFp16(dst, o, dBlock);
  writeFp16(dst, o + 2, mBlock);
  const D = readFp16(dst, o), M = readFp16(dst, o + 2);
  for (let j = 0; j < 8; j++) {
    const d = F(D * scaleK4(j, dst, o + 4));
    if (d === 0) continue;
    const dm = F(M * minK4(j, dst, o + 4));
    for (let ii = 0; ii < 32; ii++) L[32 * j + ii] = clampInt(nearestInt(F(F(src[x + 32 * j + ii]! + dm) / d)), 0, nmax);
  }
}

export function quantizeRowQ4_KImatrix(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, nPerRow: number, qw: Float32Array): void {
  for (let i = 0; i < nPerRow / QK_K; i++) {
    const o = dstOff + Q4_K * i;
    scaleMinBlockImatrix(src, srcOff + QK_K * i, dst, o, qw, QK_K * i, 15);
    packQ4KCodes(dst, o, L);
  }
}

export function quantizeRowQ5_KImatrix(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, nPerRow: number, qw: Float32Array): void {
  for (let i = 0; i < nPerRow / QK_K; i++) {
    const o = dstOff + Q5_K * i;
    scaleMinBlockImatrix(src, srcOff + QK_K * i, dst, o, qw, QK_K * i, 31);
    packQ5KCodes(dst, o, L);
  }
}
