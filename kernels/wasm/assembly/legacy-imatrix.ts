// Q4_0, Q4_1, Q5_0 and Q5_1 with an importance matrix: ports of ggml-quants.c
// `quantize_row_q{4,5}_{0,1}_impl`, byte-identical to kernels/ref/imatrix-legacy.ts. σ² is
// Σx²/n_per_row over the WHOLE row (scalar, in C order); then per 32-value block the weights
// qw·sqrtf(σ² + x²) and the scale search — make_qx_quants (rmse_type 1) for the symmetric
// types, 4 blocks per SIMD step (kquant-search4.ts), make_qkx3_quants (= make_qkx2_quants'
// search with −0.9, 0.05, 36 steps, no MAD) for the asymmetric ones, 8 blocks per step
// (kquant-search8.ts). A row's last blocks that do not fill a group run in zero-padded scratch.
//
// Exports take whole rows: (x, y, nrows, nPerRow, qw), qw the row's nPerRow importance weights.
import { fp32ToFp16 } from './numeric';
import { makeQxQuants4W, XT, WT, LT, RES } from './kquant-search4';
import { makeQkx2Quants8, winnerCodes8, XA, WA, LA, XB, WB, LB, RES8 } from './kquant-search8';
import { transpose4, scatterCodes4 } from './simd';

const L = memory.data(256, 16);
const QA = memory.data(32 * 16, 16);
const QB = memory.data(32 * 16, 16);
const PADX = memory.data(8 * 32 * 4, 16);
const PADQ = memory.data(8 * 32 * 4, 16);

// @ts-ignore: decorator
@inline function at(p: usize, i: i32): v128 { return v128.load(p + (<usize>i << 4)); }

/** w = qw·sqrtf(σ² + x²) for 4 transposed blocks of 32 into wt. */
// @ts-ignore: decorator
@inline function weights4(xt: usize, qt: usize, wt: usize, sigma2: f32): void {
  const s2 = f32x4.splat(sigma2);
  for (let l = 0; l < 32; l++) {
    const v = at(xt, l);
    v128.store(wt + (<usize>l << 4), f32x4.mul(at(qt, l), f32x4.sqrt(f32x4.add(s2, f32x4.mul(v, v)))));
  }
}

/** `sum_x2 / n_per_row` with the sum in C order. */
// @ts-ignore: decorator
@inline function rowSigma2(x: usize, n: i32): f32 {
  let s: f32 = 0;
  for (let j = 0; j < n; j++) { const v = load<f32>(x + (<usize>j << 2)); s += v * v; }
  return s / <f32>n;
}

/**
 * Block b's 32 codes (bytes at c) into its quant bytes: low nibbles of codes j and j+16 share
 * qs[j]; with `high`, bit 4 of code j goes to bit j of the u32 at qh.
 */
// @ts-ignore: decorator
@inline function packBlock(c: usize, qs: usize, high: bool, qh: usize): void {
  const lo = i8x16.splat(15);
  const a = v128.load(c), b = v128.load(c, 16);
  v128.store(qs, v128.or(v128.and(a, lo), i8x16.shl(v128.and(b, lo), 4)));
  if (high) {
    // bit 4 of each code → bitmask: shift it into the sign bit and gather.
    const ma = i8x16.bitmask(i8x16.shl(a, 3)), mb = i8x16.bitmask(i8x16.shl(b, 3));
    store<u32>(qh, <u32>ma | (<u32>mb << 16));
  }
}

/** Symmetric (Q4_0 nmax 8, Q5_0 nmax 16): d at 0, then qh (Q5_0) and qs. */
// @ts-ignore: decorator
@inline function symmetricRows(x: usize, y: usize, nrows: i32, nPerRow: i32, qw: usize, nmax: i32, bs: i32): void {
  const nb = nPerRow >> 5;
  const high = nmax == 16;
  for (let r = 0; r < nrows; r++, x += <usize>nPerRow << 2, y += <usize>(nb * bs)) {
    const sigma2 = rowSigma2(x, nPerRow);
    for (let ib = 0; ib < nb; ib += 4) {
      const m = nb - ib < 4 ? nb - ib : 4;
      let xs = x + (<usize>ib << 7), qs = qw + (<usize>ib << 7);
      if (m < 4) {
        memory.fill(PADX, 0, 512); memory.fill(PADQ, 0, 512);
        memory.copy(PADX, xs, <usize>m << 7); memory.copy(PADQ, qs, <usize>m << 7);
        xs = PADX; qs = PADQ;
      }
      transpose4(xs, 128, 32, XT);
      transpose4(qs, 128, 32, QA);
      weights4(XT, QA, WT, sigma2);
      makeQxQuants4W(32, nmax);
      scatterCodes4(LT, 32, L);
      for (let k = 0; k < m; k++) {
        const o = y + <usize>((ib + k) * bs);
        store<u16>(o, <u16>fp32ToFp16(load<f32>(RES + (<usize>k << 2))));
        packBlock(L + 32 * k, o + (high ? 6 : 2), high, o + 2);
      }
    }
  }
}

/** Asymmetric (Q4_1 nmax 15, Q5_1 nmax 31): d, m at 0 and 2, then qh (Q5_1) and qs. */
// @ts-ignore: decorator
@inline function asymmetricRows(x: usize, y: usize, nrows: i32, nPerRow: i32, qw: usize, nmax: i32, bs: i32): void {
  const nb = nPerRow >> 5;
  const high = nmax == 31;
  for (let r = 0; r < nrows; r++, x += <usize>nPerRow << 2, y += <usize>(nb * bs)) {
    const sigma2 = rowSigma2(x, nPerRow);
    for (let ib = 0; ib < nb; ib += 8) {
      const m = nb - ib < 8 ? nb - ib : 8;
      let xs = x + (<usize>ib << 7), qs = qw + (<usize>ib << 7);
      if (m < 8) {
        memory.fill(PADX, 0, 1024); memory.fill(PADQ, 0, 1024);
        memory.copy(PADX, xs, <usize>m << 7); memory.copy(PADQ, qs, <usize>m << 7);
        xs = PADX; qs = PADQ;
      }
      transpose4(xs, 128, 32, XA);
      transpose4(xs + 512, 128, 32, XB);
      transpose4(qs, 128, 32, QA);
      transpose4(qs + 512, 128, 32, QB);
      weights4(XA, QA, WA, sigma2);
      weights4(XB, QB, WB, sigma2);
      makeQkx2Quants8(32, nmax, -0.9, 0.05, 36, false);
      winnerCodes8(32, nmax);
      scatterCodes4(LA, 32, L);
      scatterCodes4(LB, 32, L + 128);
      for (let k = 0; k < m; k++) {
        const o = y + <usize>((ib + k) * bs);
        const res = RES8 + (k < 4 ? 0 : 32) + (<usize>(k & 3) << 2); // scale; the_min 16 bytes on
        store<u16>(o, <u16>fp32ToFp16(load<f32>(res)));
        store<u16>(o + 2, <u16>fp32ToFp16(-load<f32>(res, 16)));
        packBlock(L + 32 * k, o + (high ? 8 : 4), high, o + 4);
      }
    }
  }
}

export function quantizeQ4_0Imatrix(x: usize, y: usize, nrows: i32, nPerRow: i32, qw: usize): void {
  symmetricRows(x, y, nrows, nPerRow, qw, 8, 18);
}

export function quantizeQ5_0Imatrix(x: usize, y: usize, nrows: i32, nPerRow: i32, qw: usize): void {
  symmetricRows(x, y, nrows, nPerRow, qw, 16, 22);
}

export function quantizeQ4_1Imatrix(x: usize, y: usize, nrows: i32, nPerRow: i32, qw: usize): void {
  asymmetricRows(x, y, nrows, nPerRow, qw, 15, 20);
}

export function quantizeQ5_1Imatrix(x: usize, y: usize, nrows: i32, nPerRow: i32, qw: usize): void {
  asymmetricRows(x, y, nrows, nPerRow, qw, 31, 24);
}
