/**
 * IQ4_NL and IQ4_XS quantizers, as `ggml_quantize_chunk` runs them: `quantize_iq4_nl` /
 * `quantize_iq4_xs` → `quantize_row_iq4_nl_impl(…, quant_weights, ntry = 7)`. Per 32-value group:
 * weights x² (or, with an importance matrix, qw·sqrtf(σ² + x²), σ² = 2·mean x² over the super-block
 * of 32 or 256 values), a least-squares scale search over 15 candidate
 * scales (itry = −7..7) with codes from `best_index_int8` over kvalues_iq4nl; IQ4_XS then
 * quantizes the 8 group scales to 6 bits against a super-block fp16 d and re-picks the codes.
 * (Not `quantize_row_iq4_nl_ref`, which skips the search with ntry = −1: llama-quantize never
 * runs that one.)
 */
import { F, nearestInt, clampInt } from './rounding.ts';
import { writeFp16 } from './block-io.ts';
import { importanceWeights, sumSquares } from './imatrix-weights.ts';
import { KVALUES_IQ4NL } from './iq4.ts';
import { layoutOf } from '../block-layouts.ts';

const IQ4_NL = layoutOf('IQ4_NL');
const IQ4_XS = layoutOf('IQ4_XS');

const GROUP_MAX_EPS = F(1e-15);
const NTRY = 7;

/**
 * `best_index_int8(16, kvalues_iq4nl, x)` as in the pinned llama.cpp: clamp to the end codes, binary
 * search, then the nearer neighbour by binary32 distances (ties to the upper code). NaN falls
 * through every comparison and gets code 15. (Newer upstream uses a branch-free midpoint search
 * that sends NaN to code 0; the tests pin which one the oracle runs.)
 */
export function bestIndexIQ4(x: number): number {
  if (x <= -127) return 0;
  if (x >= 113) return 15;
  let ml = 0, mu = 15;
  while (mu - ml > 1) {
    const mav = (ml + mu) >> 1;
    if (x < KVALUES_IQ4NL[mav]!) mu = mav;
    else ml = mav;
  }
  return F(x - KVALUES_IQ4NL[mu - 1]!) < F(KVALUES_IQ4NL[mu]! - x) ? mu - 1 : mu;
}

const weight = new Float64Array(32);
const L = new Int32Array(256);
const scales = new Float64Array(8);

/**
 * The per-group search of `quantize_row_iq4_nl_impl` for the 32 values at x[xOff..]: writes codes
 * to L[lOff..] and returns the group scale d (0 for an all-(near-)zero group).
 */
function searchGroup(x: Float32Array, xOff: number, lOff: number, qw: Float32Array | undefined, qwOff: number, sigma2: number): number {
  if (qw) importanceWeights(x, xOff, qw, qwOff, sigma2, 32, weight, 0);
  let amax = 0, max = 0;
  for (let j = 0; j < 32; j++) {
    const v = x[xOff + j]!;
    if (!qw) weight[j] = F(v * v);
    const ax = Math.abs(v);
    if (ax > amax) { amax = ax; max = v; }
  }
  if (amax < GROUP_MAX_EPS) {
    for (let j = 0; j < 32; j++) L[lOff + j] = 0;
    return 0;
  }
  let d = F(-max / KVALUES_IQ4NL[0]!);
  let id = F(1 / d);
  let sumqx = 0, sumq2 = 0;
  for (let j = 0; j < 32; j++) {
    const v = x[xOff + j]!;
    const l = bestIndexIQ4(F(id * v));
    L[lOff + j] = l;
    const wq = F(weight[j]! * KVALUES_IQ4NL[l]!);
    sumqx = F(sumqx + F(wq * v));
    sumq2 = F(sumq2 + F(wq * KVALUES_IQ4NL[l]!));
  }
  d = sumq2 > 0 ? F(sumqx / sumq2) : 0;
  let best = F(d * sumqx);
  for (let itry = -NTRY; itry <= NTRY; itry++) {
    id = F((itry + KVALUES_IQ4NL[0]!) / max);
    sumqx = 0; sumq2 = 0;
    for (let j = 0; j < 32; j++) {
      const v = x[xOff + j]!;
      const q = KVALUES_IQ4NL[bestIndexIQ4(F(id * v))]!;
      const wq = F(weight[j]! * q);
      sumqx = F(sumqx + F(wq * v));
      sumq2 = F(sumq2 + F(wq * q));
    }
    if (sumq2 > 0 && F(sumqx * sumqx) > F(best * sumq2)) {
      d = F(sumqx / sumq2);
      best = F(d * sumqx);
    }
  }
  // Upstream keeps the codes of the first pass (L is not rewritten by a better candidate); the
  // caller re-picks them from the final scale.
  return d;
}

/** Packs 32 codes L[lOff..] into 16 bytes: element j low nibble, j+16 high nibble. */
function pack32(dst: Uint8Array, o: number, lOff: number): void {
  for (let j = 0; j < 16; j++) dst[o + j] = L[lOff + j]! | (L[lOff + 16 + j]! << 4);
}

/** σ² of `quantize_row_iq4_nl_impl`: Σx² over the super-block, times 2.f/super_block_size. */
function superBlockSigma2(src: Float32Array, x: number, n: number): number {
  return F(sumSquares(src, x, n) * F(2 / n));
}

export function quantizeRowIQ4_NL(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, nBlocks: number): void {
  blocksIQ4_NL(src, srcOff, dst, dstOff, nBlocks, undefined);
}

/** One row with importance weights qw[0..nPerRow). */
export function quantizeRowIQ4_NLImatrix(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, nPerRow: number, qw: Float32Array): void {
  blocksIQ4_NL(src, srcOff, dst, dstOff, nPerRow / 32, qw);
}

function blocksIQ4_NL(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, nBlocks: number, qw: Float32Array | undefined): void {
  for (let b = 0; b < nBlocks; b++) {
    const x = srcOff + b * 32;
    const o = dstOff + b * IQ4_NL.size; // d | qs[16]
    const d = searchGroup(src, x, 0, qw, 32 * b, qw ? superBlockSigma2(src, x, 32) : 0);
    writeFp16(dst, o, d);
    const id = d !== 0 ? F(1 / d) : 0;
    for (let j = 0; j < 32; j++) L[j] = bestIndexIQ4(F(id * src[x + j]!));
    pack32(dst, o + 2, 0);
  }
}

export function quantizeRowIQ4_XS(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, nBlocks: number): void {
  blocksIQ4_XS(src, srcOff, dst, dstOff, nBlocks, undefined);
}

/** One row with importance weights qw[0..nPerRow). */
export function quantizeRowIQ4_XSImatrix(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, nPerRow: number, qw: Float32Array): void {
  blocksIQ4_XS(src, srcOff, dst, dstOff, nPerRow / 256, qw);
}

function blocksIQ4_XS(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, nBlocks: number, qw: Float32Array | undefined): void {
  for (let b = 0; b < nBlocks; b++) {
    const x = srcOff + b * 256;
    const o = dstOff + b * IQ4_XS.size; // d | scales_h:u16 | scales_l[4] | qs[128]
    const sigma2 = qw ? superBlockSigma2(src, x, 256) : 0;
    let maxScale = 0, amaxScale = 0;
    for (let ib = 0; ib < 8; ib++) {
      const s = searchGroup(src, x + 32 * ib, 32 * ib, qw, 256 * b + 32 * ib, sigma2);
      scales[ib] = s;
      const a = Math.abs(s);
      if (a > amaxScale) { amaxScale = a; maxScale = s; }
    }
    const d = F(-maxScale / 32);
    writeFp16(dst, o, d);
    const id = d !== 0 ? F(1 / d) : 0;
    let scalesH = 0;
    for (let ib = 0; ib < 8; ib++) {
      let l = nearestInt(F(id * scales[ib]!));
      l = clampInt(l, -32, 31);
      const dl = F(d * l);
      const idl = dl !== 0 ? F(1 / dl) : 0;
      for (let j = 0; j < 32; j++) L[32 * ib + j] = bestIndexIQ4(F(idl * src[x + 32 * ib + j]!));
      l += 32;
      if (ib % 2 === 0) dst[o + 4 + (ib >> 1)] = l & 15;
      else dst[o + 4 + (ib >> 1)] |= (l & 15) << 4;
      scalesH |= (l >> 4) << (2 * ib);
    }
    dst[o + 2] = scalesH & 255;
    dst[o + 3] = (scalesH >>> 8) & 255;
    for (let i = 0; i < 8; i++) pack32(dst, o + 8 + 16 * i, 32 * i);
  }
}
