/**
 * Q4_0, Q4_1, Q5_0 and Q5_1 with an importance matrix: ports of `quantize_row_q4_0_impl`,
 * `quantize_row_q4_1_impl`, `quantize_row_q5_0_impl` and `quantize_row_q5_1_impl` (ggml-quants.c),
 * one row at a time as `quantize_q4_0` & co. call them when `quant_weights` is set.
 * σ² is mean(x²) over the WHOLE row; symmetric types search the scale with make_qx_quants
 * (rmse_type 1), asymmetric ones with make_qkx3_quants (−0.9, 0.05, 36 steps, no MAD).
 */
import { F } from './rounding.ts';
import { writeFp16 } from './block-io.ts';
import { makeQkx2Quants, makeQxQuants } from './k-helpers.ts';
import { importanceWeights, sumSquares } from './imatrix-weights.ts';
import { layoutOf } from '../block-layouts.ts';

const QK = 32;
const RDELTA = F(0.05);
const RMIN = F(-0.9);

const w = new Float64Array(QK);
const L = new Int32Array(QK);
const Laux = new Int32Array(QK);
const minOut = new Float64Array(1);

/** Row-wide σ² = Σx²/n_per_row in binary32 (the int64 n_per_row converts exactly). */
function rowSigma2(src: Float32Array, x: number, nPerRow: number): number {
  return F(sumSquares(src, x, nPerRow) / nPerRow);
}

/** Low nibbles of codes j and j+16 share byte j (Q4_0/Q4_1/Q5_x `qs`). */
function packNibbles(dst: Uint8Array, o: number): void {
  for (let j = 0; j < 16; j++) dst[o + j] = ((L[j]! & 15) | ((L[j + 16]! & 15) << 4)) & 255;
}

/** Bit 4 of code j into bit j of the little-endian u32 `qh` at dst[o..o+4) (Q5_0/Q5_1). */
function packHighBits(dst: Uint8Array, o: number): void {
  let qh = 0;
  for (let j = 0; j < QK; j++) qh |= ((L[j]! & 16) >>> 4) << j;
  dst[o] = qh & 255; dst[o + 1] = (qh >>> 8) & 255; dst[o + 2] = (qh >>> 16) & 255; dst[o + 3] = (qh >>> 24) & 255;
}

/** One row of Q4_0 (nmax 8) or Q5_0 (nmax 16). */
function symmetricRow(src: Float32Array, x: number, dst: Uint8Array, o: number, nPerRow: number, qw: Float32Array, nmax: number): void {
  const sigma2 = rowSigma2(src, x, nPerRow);
  const blockBytes = layoutOf(nmax === 8 ? 'Q4_0' : 'Q5_0').size;
  for (let ib = 0; ib < nPerRow / QK; ib++) {
    const xb = x + QK * ib, ob = o + blockBytes * ib;
    importanceWeights(src, xb, qw, QK * ib, sigma2, QK, w, 0);
    writeFp16(dst, ob, makeQxQuants(QK, nmax, src, xb, L, 0, w, 0));
    if (nmax === 8) packNibbles(dst, ob + 2);
    else { packHighBits(dst, ob + 2); packNibbles(dst, ob + 6); }
  }
}

/** One row of Q4_1 (nmax 15) or Q5_1 (nmax 31). */
function asymmetricRow(src: Float32Array, x: number, dst: Uint8Array, o: number, nPerRow: number, qw: Float32Array, nmax: number): void {
  const sigma2 = rowSigma2(src, x, nPerRow);
  const blockBytes = layoutOf(nmax === 15 ? 'Q4_1' : 'Q5_1').size;
  for (let ib = 0; ib < nPerRow / QK; ib++) {
    const xb = x + QK * ib, ob = o + blockBytes * ib;
    importanceWeights(src, xb, qw, QK * ib, sigma2, QK, w, 0);
    // make_qkx3_quants with weights is make_qkx2_quants: they differ only in `max <= min` vs
    // `max == min`, which cannot differ after min is clamped to ≤ 0 and max ≥ every x.
    const d = makeQkx2Quants(QK, nmax, src, xb, w, L, 0, Laux, RMIN, RDELTA, 36, false, minOut, 0);
    writeFp16(dst, ob, d);
    writeFp16(dst, ob + 2, -minOut[0]!);
    if (nmax === 15) packNibbles(dst, ob + 4);
    else { packHighBits(dst, ob + 4); packNibbles(dst, ob + 8); }
  }
}

export type ImatrixRowQuantizer = (src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, nPerRow: number, qw: Float32Array) => void;

export const quantizeRowQ4_0Imatrix: ImatrixRowQuantizer = (s, x, d, o, n, qw) => symmetricRow(s, x, d, o, n, qw, 8);
export const quantizeRowQ5_0Imatrix: ImatrixRowQuantizer = (s, x, d, o, n, qw) => symmetricRow(s, x, d, o, n, qw, 16);
export const quantizeRowQ4_1Imatrix: ImatrixRowQuantizer = (s, x, d, o, n, qw) => asymmetricRow(s, x, d, o, n, qw, 15);
export const quantizeRowQ5_1Imatrix: ImatrixRowQuantizer = (s, x, d, o, n, qw) => asymmetricRow(s, x, d, o, n, qw, 31);
