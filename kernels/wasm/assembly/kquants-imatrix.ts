// The K-quant quantizers with an importance matrix: ports of ggml-quants.c
// `quantize_row_q{2,3,4,5,6}_K_impl` as `quantize_q*_K` runs them when quant_weights is set,
// byte-identical to kernels/ref/imatrix-k.ts and q6_k.ts. Per super-block: σ² from its x² (scalar,
// in C order), weights qw·sqrtf(σ² + x²) four sub-blocks per SIMD step (sqrt is correctly rounded
// in wasm as in C), the per-sub-block searches of kquant-search4/8.ts, then the scalar scale
// searches of qp-quants.ts, and the codes re-picked from the stored scales.
//
// Exports take whole rows: (x, y, nrows, nPerRow, qw), qw the row's nPerRow importance weights.
import { nearestInt, fp32ToFp16, fp16ToFp32 } from './numeric';
import { makeQxQuants4W, XT, WT, LT, RES } from './kquant-search4';
import { makeQkx2Quants8, winnerCodes8, XA, WA, LA, XB, WB, LB, RES8 } from './kquant-search8';
import { transpose4, scatterCodes4 } from './simd';
import { pack2bit, splitHighBit, packQ4K, packQ5K } from './pack';
import { requant4, scaleMinK4, finishQ6_KBlock } from './kquants';
import { makeQpQuants, makeQxQuantsW } from './qp-quants';

const L = memory.data(256, 16);
const SCALES = memory.data(16 * 4, 16);
const MINS = memory.data(16 * 4, 16);
const SW = memory.data(16 * 4, 16);
const LS = memory.data(16, 16);
const LM = memory.data(16, 16);
const QA = memory.data(32 * 16, 16);
const QB = memory.data(32 * 16, 16);

// @ts-ignore: decorator
@inline function at(p: usize, i: i32): v128 { return v128.load(p + (<usize>i << 4)); }
// @ts-ignore: decorator
@inline function ld(p: usize, j: i32): f32 { return load<f32>(p + (<usize>j << 2)); }

/** `for (l) sum += x[l]*x[l]` over the 256 values of a super-block, in order. */
// @ts-ignore: decorator
@inline function sumSquares256(x: usize): f32 {
  let s: f32 = 0;
  for (let l = 0; l < 256; l++) { const v = load<f32>(x + (<usize>l << 2)); s += v * v; }
  return s;
}

/**
 * Weights of 4 transposed sub-blocks of n: w = qw·sqrtf(σ² + x²) into wt; returns each lane's
 * `sumw = 0; sumw += w[l]` (C's sw[j]).
 */
// @ts-ignore: decorator
@inline function imatrixWeights4(xt: usize, qt: usize, wt: usize, n: i32, sigma2: f32): v128 {
  const s2 = f32x4.splat(sigma2);
  let sw = f32x4.splat(0);
  for (let l = 0; l < n; l++) {
    const v = at(xt, l);
    const w = f32x4.mul(at(qt, l), f32x4.sqrt(f32x4.add(s2, f32x4.mul(v, v))));
    v128.store(wt + (<usize>l << 4), w);
    sw = f32x4.add(sw, w);
  }
  return sw;
}

/** Q4_K/Q5_K super-block at x with weights qw: fills L and the 16 header bytes at y. */
// @ts-ignore: decorator
@inline function k4k5Block(x: usize, y: usize, qw: usize, nmax: i32): void {
  const sigma2: f32 = <f32>2 * sumSquares256(x) / <f32>256;
  transpose4(x, 128, 32, XA);
  transpose4(x + 512, 128, 32, XB);
  transpose4(qw, 128, 32, QA);
  transpose4(qw + 512, 128, 32, QB);
  v128.store(SW, imatrixWeights4(XA, QA, WA, 32, sigma2));
  v128.store(SW, imatrixWeights4(XB, QB, WB, 32, sigma2), 16);
  makeQkx2Quants8(32, nmax, -0.9, 0.05, 36, false); // make_qkx3_quants: the same search
  winnerCodes8(32, nmax);
  scatterCodes4(LA, 32, L);
  scatterCodes4(LB, 32, L + 128);
  v128.store(SCALES, v128.load(RES8));
  v128.store(MINS, v128.load(RES8, 16));
  v128.store(SCALES, v128.load(RES8, 32), 16);
  v128.store(MINS, v128.load(RES8, 48), 16);
  const dBlock = makeQpQuants(8, 63, SCALES, LS, SW);
  const mBlock = makeQpQuants(8, 63, MINS, LM, SW);
  const S = y + 4;
  for (let j = 0; j < 8; j++) {
    const ls = <i32>load<u8>(LS + j), lm = <i32>load<u8>(LM + j);
    if (j < 4) {
      store<u8>(S + j, <u8>ls);
      store<u8>(S + j + 4, <u8>lm);
    } else {
      store<u8>(S + j + 4, <u8>((ls & 15) | ((lm & 15) << 4)));
      store<u8>(S + j - 4, load<u8>(S + j - 4) | <u8>((ls >> 4) << 6));
      store<u8>(S + j, load<u8>(S + j) | <u8>((lm >> 4) << 6));
    }
  }
  store<u16>(y, <u16>fp32ToFp16(dBlock));
  store<u16>(y + 2, <u16>fp32ToFp16(mBlock));
  const D = fp16ToFp32(load<u16>(y)), M = fp16ToFp32(load<u16>(y + 2));
  for (let j = 0; j < 8; j++) {
    const sm = scaleMinK4(j, S);
    const d: f32 = D * <f32>(sm & 255);
    if (d == 0) continue; // keep the codes the search chose
    const dm: f32 = M * <f32>(sm >> 8);
    requant4(x + (<usize>j << 7), 32, true, dm, d, 0, nmax, 0, L + 32 * j);
  }
}

export function quantizeQ4_KImatrix(x: usize, y: usize, nrows: i32, nPerRow: i32, qw: usize): void {
  const nb = nPerRow >> 8;
  for (let r = 0; r < nrows; r++) {
    for (let i = 0; i < nb; i++, x += 1024, y += 144) {
      k4k5Block(x, y, qw + (<usize>i << 10), 15);
      packQ4K(L, y + 16);
    }
  }
}

export function quantizeQ5_KImatrix(x: usize, y: usize, nrows: i32, nPerRow: i32, qw: usize): void {
  const nb = nPerRow >> 8;
  for (let r = 0; r < nrows; r++) {
    for (let i = 0; i < nb; i++, x += 1024, y += 176) {
      k4k5Block(x, y, qw + (<usize>i << 10), 31);
      packQ5K(L, y + 16, y + 48);
    }
  }
}

export function quantizeQ2_KImatrix(x: usize, y: usize, nrows: i32, nPerRow: i32, qw: usize): void {
  const nb = nPerRow >> 8;
  for (let r = 0; r < nrows; r++) {
    for (let i = 0; i < nb; i++, x += 1024, y += 84) {
      const q = qw + (<usize>i << 10);
      const sigma2: f32 = sumSquares256(x) / <f32>256;
      for (let g = 0; g < 4; g += 2) {
        transpose4(x + (<usize>g << 8), 64, 16, XA);
        transpose4(x + (<usize>(g + 1) << 8), 64, 16, XB);
        transpose4(q + (<usize>g << 8), 64, 16, QA);
        transpose4(q + (<usize>(g + 1) << 8), 64, 16, QB);
        v128.store(SW + 16 * g, imatrixWeights4(XA, QA, WA, 16, sigma2));
        v128.store(SW + 16 * (g + 1), imatrixWeights4(XB, QB, WB, 16, sigma2));
        makeQkx2Quants8(16, 3, -0.9, 0.05, 36, false);
        winnerCodes8(16, 3);
        scatterCodes4(LA, 16, L + 64 * g);
        scatterCodes4(LB, 16, L + 64 * (g + 1));
        v128.store(SCALES + 16 * g, v128.load(RES8));
        v128.store(MINS + 16 * g, v128.load(RES8, 16));
        v128.store(SCALES + 16 * (g + 1), v128.load(RES8, 32));
        v128.store(MINS + 16 * (g + 1), v128.load(RES8, 48));
      }
      store<u16>(y + 80, <u16>fp32ToFp16(makeQpQuants(16, 15, SCALES, LS, SW)));
      store<u16>(y + 82, <u16>fp32ToFp16(makeQpQuants(16, 15, MINS, LM, SW)));
      const dm = fp16ToFp32(load<u16>(y + 80)), mm = fp16ToFp32(load<u16>(y + 82));
      for (let j = 0; j < 16; j++) store<u8>(y + j, <u8>(<i32>load<u8>(LS + j) | (<i32>load<u8>(LM + j) << 4)));
      for (let j = 0; j < 16; j++) {
        const s = <i32>load<u8>(y + j);
        const d: f32 = dm * <f32>(s & 15);
        if (d == 0) continue;
        const m: f32 = mm * <f32>(s >> 4);
        requant4(x + (<usize>j << 6), 16, true, m, d, 0, 3, 0, L + 16 * j);
      }
      pack2bit(L, y + 16);
    }
  }
}

export function quantizeQ3_KImatrix(x: usize, y: usize, nrows: i32, nPerRow: i32, qw: usize): void {
  const nb = nPerRow >> 8;
  for (let r = 0; r < nrows; r++) {
    for (let i = 0; i < nb; i++, x += 1024, y += 110) {
      const q = qw + (<usize>i << 10);
      const sigma2: f32 = <f32>2 * sumSquares256(x) / <f32>256;
      for (let g = 0; g < 4; g++) {
        transpose4(x + (<usize>g << 8), 64, 16, XT);
        transpose4(q + (<usize>g << 8), 64, 16, QA);
        v128.store(SW + 16 * g, imatrixWeights4(XT, QA, WT, 16, sigma2));
        makeQxQuants4W(16, 4);
        scatterCodes4(LT, 16, L + 64 * g);
        v128.store(SCALES + 16 * g, v128.load(RES));
      }
      const S = y + 96;
      memory.fill(S, 0, 12);
      const dBlock = makeQxQuantsW(16, 32, SCALES, LS, SW);
      for (let j = 0; j < 16; j++) {
        let l = <i32>load<i8>(LS + j);
        if (j < 8) store<u8>(S + j, <u8>(l & 15));
        else store<u8>(S + j - 8, load<u8>(S + j - 8) | <u8>((l & 15) << 4));
        l >>= 4;
        store<u8>(S + 8 + (j & 3), load<u8>(S + 8 + (j & 3)) | <u8>(l << (2 * (j >> 2))));
      }
      store<u16>(y + 108, <u16>fp32ToFp16(dBlock));
      const D = fp16ToFp32(load<u16>(y + 108));
      for (let j = 0; j < 16; j++) {
        const lo = j < 8 ? <i32>load<u8>(S + j) & 15 : <i32>load<u8>(S + j - 8) >> 4;
        const sc = (lo | (((<i32>load<u8>(S + 8 + (j & 3)) >> (2 * (j >> 2))) & 3) << 4)) - 32;
        const d: f32 = D * <f32>sc;
        if (d == 0) continue;
        requant4(x + (<usize>j << 6), 16, false, 0, d, -4, 3, 4, L + 16 * j);
      }
      splitHighBit(L, y);
      pack2bit(L, y + 32);
    }
  }
}

export function quantizeQ6_KImatrix(x: usize, y: usize, nrows: i32, nPerRow: i32, qw: usize): void {
  const nb = nPerRow >> 8;
  for (let r = 0; r < nrows; r++) {
    for (let i = 0; i < nb; i++, x += 1024, y += 210) {
      const q = qw + (<usize>i << 10);
      for (let g = 0; g < 4; g++) {
        transpose4(x + (<usize>g << 8), 64, 16, XT);
        transpose4(q + (<usize>g << 8), 64, 16, WT); // the raw imatrix values are the weights
        makeQxQuants4W(16, 32);
        scatterCodes4(LT, 16, L + 64 * g);
        v128.store(SCALES + 16 * g, v128.load(RES));
      }
      finishQ6_KBlock(x, y, SCALES, L);
    }
  }
}
