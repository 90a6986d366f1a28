// The 256-element K-quant quantizers: ports of ggml-quants.c `quantize_row_q{2,3,4,5,6}_K_ref`.
// The per-sub-block scale searches run 4 sub-blocks at a time (kquant-search4.ts); the code
// packing is in pack.ts and the dequantizers in kquants-dequant.ts.
import { nearestInt, fp32ToFp16, fp16ToFp32 } from './numeric';
import { makeQxQuants4, XT, LT, RES } from './kquant-search4';
import { makeQkx2Quants8, winnerCodes8, makeQ3Quants8, XA, WA, LA, XB, WB, LB, RES8, WIN8 } from './kquant-search8';
import { nearest4, clamp4, storeBytes4, transpose4, scatterCodes4 } from './simd';
import { pack2bit, splitHighBit, packQ4K, packQ5K, packQ6K } from './pack';

// @ts-ignore: decorator
@inline function ld(p: usize, j: i32): f32 { return load<f32>(p + (<usize>j << 2)); }

const L = memory.data(256, 16);
const SCALES = memory.data(16 * 4, 16);
const MINS = memory.data(16 * 4, 16);

// @ts-ignore: decorator
@inline function clamp(l: i32, lo: i32, hi: i32): i32 {
  l = hi < l ? hi : l;
  return lo > l ? lo : l;
}

// @ts-ignore: decorator
@inline function at(p: usize, i: i32): v128 { return v128.load(p + (<usize>i << 4)); }

/**
 * The final requantization, 4 elements per step: `L[l] = clamp(nearest_int((x[l] + dm) / d), lo, hi) + add`,
 * or without the `+ dm` when withMin is false (Q3_K, Q6_K), for n (a multiple of 4) values.
 */
// @ts-ignore: decorator
@inline export function requant4(xs: usize, n: i32, withMin: bool, dm: f32, d: f32, lo: i32, hi: i32, add: i32, out: usize): void {
  const dv = f32x4.splat(d), dmv = f32x4.splat(dm), addv = i32x4.splat(add);
  for (let l = 0; l < n; l += 4) {
    const v = v128.load(xs + (<usize>l << 2));
    const q = clamp4(nearest4(f32x4.div(withMin ? f32x4.add(v, dmv) : v, dv)), lo, hi);
    storeBytes4(out + l, i32x4.add(q, addv));
  }
}

export function quantizeQ2_K(x: usize, y: usize, nb: i32): void {
  for (let i = 0; i < nb; i++, x += 1024, y += 84) {
    let maxScale: f32 = 0, maxMin: f32 = 0;
    for (let g = 0; g < 4; g += 2) {
      transpose4(x + (<usize>g << 8), 64, 16, XA);
      transpose4(x + (<usize>(g + 1) << 8), 64, 16, XB);
      for (let l = 0; l < 16; l++) {
        v128.store(WA + (<usize>l << 4), f32x4.abs(at(XA, l)));
        v128.store(WB + (<usize>l << 4), f32x4.abs(at(XB, l)));
      }
      makeQkx2Quants8(16, 3, -0.5, 0.1, 15, true);
      winnerCodes8(16, 3);
      scatterCodes4(LA, 16, L + 64 * g);
      scatterCodes4(LB, 16, L + 64 * (g + 1));
      storeResults8(g);
    }
    for (let j = 0; j < 16; j++) {
      const scale = ld(SCALES, j), min = ld(MINS, j);
      if (scale > maxScale) maxScale = scale;
      if (min > maxMin) maxMin = min;
    }
    const sc = y;
    if (maxScale > 0) {
      const is: f32 = <f32>15 / maxScale;
      for (let j = 0; j < 16; j++) store<u8>(sc + j, <u8>nearestInt(is * ld(SCALES, j)));
      store<u16>(y + 80, <u16>fp32ToFp16(maxScale / <f32>15));
    } else {
      for (let j = 0; j < 16; j++) store<u8>(sc + j, 0);
      store<u16>(y + 80, <u16>fp32ToFp16(0));
    }
    if (maxMin > 0) {
      const im: f32 = <f32>15 / maxMin;
      for (let j = 0; j < 16; j++) store<u8>(sc + j, load<u8>(sc + j) | <u8>(nearestInt(im * ld(MINS, j)) << 4));
      store<u16>(y + 82, <u16>fp32ToFp16(maxMin / <f32>15));
    } else {
      store<u16>(y + 82, <u16>fp32ToFp16(0));
    }
    const D = fp16ToFp32(load<u16>(y + 80)), M = fp16ToFp32(load<u16>(y + 82));
    for (let j = 0; j < 16; j++) {
      const s = <i32>load<u8>(sc + j);
      const d: f32 = D * <f32>(s & 15);
      if (d == 0) continue;
      const dm: f32 = M * <f32>(s >> 4);
      requant4(x + (<usize>j << 6), 16, true, dm, d, 0, 3, 0, L + 16 * j);
    }
    pack2bit(L, y + 16);
  }
}

export function quantizeQ3_K(x: usize, y: usize, nb: i32): void {
  for (let i = 0; i < nb; i++, x += 1024, y += 110) {
    let maxScale: f32 = 0, amax: f32 = 0;
    for (let g = 0; g < 4; g += 2) {
      transpose4(x + (<usize>g << 8), 64, 16, XA);
      transpose4(x + (<usize>(g + 1) << 8), 64, 16, XB);
      makeQ3Quants8(16, 4);
      scatterCodes4(LA, 16, L + 64 * g);
      scatterCodes4(LB, 16, L + 64 * (g + 1));
      v128.store(SCALES + 16 * g, v128.load(RES8));
      v128.store(SCALES + 16 * (g + 1), v128.load(RES8, 32));
    }
    for (let j = 0; j < 16; j++) {
      const scale = ld(SCALES, j);
      const a = abs<f32>(scale);
      if (a > amax) { amax = a; maxScale = scale; }
    }
    const S = y + 96;
    memory.fill(S, 0, 12);
    if (maxScale != 0) {
      const is: f32 = <f32>-32 / maxScale;
      for (let j = 0; j < 16; j++) {
        let l = <i32><i8>nearestInt(is * ld(SCALES, j));
        l = clamp(l, -32, 31) + 32;
        if (j < 8) store<u8>(S + j, <u8>(l & 15));
        else store<u8>(S + j - 8, load<u8>(S + j - 8) | <u8>((l & 15) << 4));
        l >>= 4;
        store<u8>(S + 8 + (j & 3), load<u8>(S + 8 + (j & 3)) | <u8>(l << (2 * (j >> 2))));
      }
      store<u16>(y + 108, <u16>fp32ToFp16(<f32>1 / is));
    } else {
      store<u16>(y + 108, <u16>fp32ToFp16(0));
    }
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

/** K_SCALE packing of Q4_K/Q5_K: 6-bit scale and min per 32-element sub-block into 12 bytes. */
function packScaleMin(S: usize, maxScale: f32, maxMin: f32): void {
  const invS: f32 = maxScale > 0 ? <f32>63 / maxScale : 0;
  const invM: f32 = maxMin > 0 ? <f32>63 / maxMin : 0;
  for (let j = 0; j < 8; j++) {
    let ls = nearestInt(invS * ld(SCALES, j)) & 255;
    let lm = nearestInt(invM * ld(MINS, j)) & 255;
    ls = 63 < ls ? 63 : ls;
    lm = 63 < lm ? 63 : lm;
    if (j < 4) {
      store<u8>(S + j, <u8>ls);
      store<u8>(S + j + 4, <u8>lm);
    } else {
      store<u8>(S + j + 4, <u8>((ls & 15) | ((lm & 15) << 4)));
      store<u8>(S + j - 4, load<u8>(S + j - 4) | <u8>((ls >> 4) << 6));
      store<u8>(S + j, load<u8>(S + j) | <u8>((lm >> 4) << 6));
    }
  }
}

/** `get_scale_min_k4`: returns sc | m << 8. */
// @ts-ignore: decorator
@inline export function scaleMinK4(j: i32, S: usize): i32 {
  if (j < 4) return (<i32>load<u8>(S + j) & 63) | ((<i32>load<u8>(S + j + 4) & 63) << 8);
  const sc = (<i32>load<u8>(S + j + 4) & 15) | ((<i32>load<u8>(S + j - 4) >> 6) << 4);
  const m = (<i32>load<u8>(S + j + 4) >> 4) | ((<i32>load<u8>(S + j) >> 6) << 4);
  return sc | (m << 8);
}

/** Q4_K/Q5_K weights of 4 sub-blocks of 32: w = sqrt(Σx²/32) + |x| (sum in C order, per lane). */
// @ts-ignore: decorator
@inline function weightsK4K5(xt: usize, wt: usize): void {
  let sumX2 = f32x4.splat(0);
  for (let l = 0; l < 32; l++) { const v = at(xt, l); sumX2 = f32x4.add(sumX2, f32x4.mul(v, v)); }
  const av = f32x4.sqrt(f32x4.div(sumX2, f32x4.splat(32)));
  for (let l = 0; l < 32; l++) v128.store(wt + (<usize>l << 4), f32x4.add(av, f32x4.abs(at(xt, l))));
}

/** Scales and mins of quads g and g+1 from RES8 into SCALES/MINS (4 sub-blocks per quad). */
// @ts-ignore: decorator
@inline function storeResults8(g: i32): void {
  v128.store(SCALES + 16 * g, v128.load(RES8));
  v128.store(MINS + 16 * g, v128.load(RES8, 16));
  v128.store(SCALES + 16 * (g + 1), v128.load(RES8, 32));
  v128.store(MINS + 16 * (g + 1), v128.load(RES8, 48));
}

/** Shared body of Q4_K (nmax 15) and Q5_K (nmax 31); fills L and the 16 header bytes. */
// @ts-ignore: decorator
@inline function quantizeK4K5Block(x: usize, y: usize, nmax: i32, rmin: f32, nstep: i32): void {
  let maxScale: f32 = 0, maxMin: f32 = 0;
  transpose4(x, 128, 32, XA);
  transpose4(x + 512, 128, 32, XB);
  weightsK4K5(XA, WA);
  weightsK4K5(XB, WB);
  makeQkx2Quants8(32, nmax, rmin, 0.1, nstep, false);
  storeResults8(0);
  for (let j = 0; j < 8; j++) {
    const scale = ld(SCALES, j), min = ld(MINS, j);
    if (scale > maxScale) maxScale = scale;
    if (min > maxMin) maxMin = min;
  }
  packScaleMin(y + 4, maxScale, maxMin);
  store<u16>(y, <u16>fp32ToFp16(maxScale / <f32>63));
  store<u16>(y + 2, <u16>fp32ToFp16(maxMin / <f32>63));
  const D = fp16ToFp32(load<u16>(y)), M = fp16ToFp32(load<u16>(y + 2));
  for (let j = 0; j < 8; j++) {
    const sm = scaleMinK4(j, y + 4);
    const d: f32 = D * <f32>(sm & 255);
    // Only a sub-block skipped here keeps the search's codes; C leaves them in L.
    if (d == 0) { searchCodesK4K5(x + (<usize>j << 7), j, nmax, L + 32 * j); continue; }
    const dm: f32 = M * <f32>(sm >> 8);
    requant4(x + (<usize>j << 7), 32, true, dm, d, 0, nmax, 0, L + 32 * j);
  }
}

/**
 * make_qkx2_quants's codes for sub-block j (32 floats at x) of the last makeQkx2Quants8, from
 * its winner in WIN8 (quad j >> 2, lane j & 3): clamp(nearest_int(iscale·(x − min)), 0, nmax), 0 if flat.
 */
function searchCodesK4K5(x: usize, j: i32, nmax: i32, out: usize): void {
  const w = WIN8 + (j < 4 ? 0 : 48) + (<usize>(j & 3) << 2);
  const iscale = load<f32>(w), min = load<f32>(w, 16), flat = load<i32>(w, 32) != 0;
  for (let i = 0; i < 32; i++) store<u8>(out + i, flat ? 0 : <u8>clamp(nearestInt(iscale * (ld(x, i) - min)), 0, nmax));
}

export function quantizeQ4_K(x: usize, y: usize, nb: i32): void {
  for (let i = 0; i < nb; i++, x += 1024, y += 144) {
    quantizeK4K5Block(x, y, 15, -1.0, 20);
    packQ4K(L, y + 16);
  }
}

export function quantizeQ5_K(x: usize, y: usize, nb: i32): void {
  for (let i = 0; i < nb; i++, x += 1024, y += 176) {
    quantizeK4K5Block(x, y, 31, -0.5, 15);
    packQ5K(L, y + 16, y + 48);
  }
}

export function quantizeQ6_K(x: usize, y: usize, nb: i32): void {
  for (let i = 0; i < nb; i++, x += 1024, y += 210) {
    for (let g = 0; g < 4; g++) {
      transpose4(x + (<usize>g << 8), 64, 16, XT);
      makeQxQuants4(16, 32);
      scatterCodes4(LT, 16, L + 64 * g);
      v128.store(SCALES + 16 * g, v128.load(RES));
    }
    finishQ6_KBlock(x, y, SCALES, L);
  }
}

/**
 * The rest of `quantize_row_q6_K_impl` for one super-block once the 16 sub-block scales are in
 * `scales` (with or without importance weights): the 8-bit scales, their fp16 step, the requantized
 * codes (into `codes`, 256 bytes) and the packed block at y. Each caller passes its own scratch.
 */
export function finishQ6_KBlock(x: usize, y: usize, scales: usize, codes: usize): void {
  let maxScale: f32 = 0, maxAbs: f32 = 0;
  for (let j = 0; j < 16; j++) {
    const scale = ld(scales, j);
    const a = abs<f32>(scale);
    if (a > maxAbs) { maxAbs = a; maxScale = scale; }
  }
  if (maxAbs < <f32>1e-15) { memory.fill(y, 0, 210); return; }
  const is: f32 = <f32>-128 / maxScale;
  store<u16>(y + 208, <u16>fp32ToFp16(<f32>1 / is));
  const sc = y + 192;
  for (let j = 0; j < 16; j++) {
    const v = nearestInt(is * ld(scales, j));
    store<i8>(sc + j, <i8>(127 < v ? 127 : v));
  }
  const D = fp16ToFp32(load<u16>(y + 208));
  for (let j = 0; j < 16; j++) {
    const d: f32 = D * <f32>load<i8>(sc + j);
    if (d == 0) continue;
    requant4(x + (<usize>j << 6), 16, false, 0, d, -32, 31, 32, codes + 16 * j);
  }
  packQ6K(codes, y, y + 128);
}
