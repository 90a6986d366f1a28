/**
 * IQ2_XXS, IQ2_XS and IQ2_S quantizers, as `ggml_quantize_chunk` runs them: `quantize_iq2_xxs` →
 * `quantize_row_iq2_xxs_impl`, `quantize_iq2_xs` → `quantize_row_iq2_xs_impl`, `quantize_iq2_s` →
 * `quantize_row_iq2_s_impl` (ggml-quants.c), one row at a time with the same per-column weights.
 *
 * Per group of 8 values the magnitudes are snapped to a lattice point (codes l ∈ 0..2, value 2l+1)
 * and the signs stored apart (IQ2_XXS/XS keep 7 sign bits and force an even count of negatives by
 * flipping the least important value; IQ2_S keeps all 8). A group of 32 (XXS) or 16 (XS, S) values
 * gets its scale from a search over 13 or 19 candidate scales; a point off the lattice is replaced
 * by its best listed neighbour (`iq2_find_best_neighbour`, tables from iq2-init.ts). Group scales
 * are then quantized to 4 bits against the super-block scale d = max/31.
 *
 * Every float op is binary32 (`F`) in C evaluation order. Where upstream aborts (no neighbour with
 * a finite distance, a point off the lattice, an index past the map: only non-finite inputs or
 * weights get there) we throw instead.
 */
import { F, nearestInt } from './rounding.ts';
import { writeFp16 } from './block-io.ts';
import { importanceWeights, sumSquares } from './imatrix-weights.ts';
import { makeQpQuants } from './qp-quants.ts';
import { iq2Tables, IQ2_MAP_SIZE, type Iq2Tables } from './iq2-init.ts';
import { layoutOf } from '../block-layouts.ts';

const IQ2_XXS = layoutOf('IQ2_XXS');
const IQ2_XS = layoutOf('IQ2_XS');
const IQ2_S = layoutOf('IQ2_S');

const GROUP_MAX_EPS = F(1e-15);
const GROUP_MAX_EPS_IQ2_S = F(1e-8);
const F0_1 = F(0.1);
const F0_9875 = F(0.9875);
const FLT_MAX = 3.4028234663852886e38;
const K_MAX_Q = 3;

const weight = new Float64Array(32);
const waux = new Float64Array(32);
const xval = new Float64Array(32);
const L = new Int32Array(32);
const Laux = new Int32Array(32);
const qpL = new Int32Array(32);
const term = new Float64Array(32);
const scales = new Float64Array(16);
const blockSigns = new Int32Array(4);
const onGrid = [true, true];
const onGridAux = [true, true];

/** `kmap_q2xs[u]`, refusing an index C would read out of bounds. */
function mapAt(t: Iq2Tables, u: number): number {
  if (u >= IQ2_MAP_SIZE) throw new RangeError(`iq2 quantizer: lattice index ${u} past the map (non-finite input?)`);
  return t.map[u]!;
}

/**
 * `iq2_find_best_neighbour`: among the listed neighbours of an off-lattice index, the point with the
 * least Σ w·(scale·q − x)², first one on ties. Writes its codes to out[off..off+8) and returns it.
 */
function bestNeighbour(t: Iq2Tables, u: number, xOff: number, scale: number, out: Int32Array, off: number): number {
  const start = -t.map[u]! - 1;
  const n = t.neighbours[start]!;
  const grid = t.grid, nb = t.neighbours;
  // Each coordinate's term w·(scale·q − x)² depends only on its grid value q ∈ {1, 3, 5, 7}: take
  // the 32 terms once (rounded as C rounds them), then a distance is 8 binary32 additions.
  const sv0 = F(scale), sv1 = F(scale * 3), sv2 = F(scale * 5), sv3 = F(scale * 7);
  for (let i = 0; i < 8; i++) {
    const x = xval[xOff + i]!, w = waux[xOff + i]!;
    let diff = F(sv0 - x); term[4 * i] = F(F(w * diff) * diff);
    diff = F(sv1 - x); term[4 * i + 1] = F(F(w * diff) * diff);
    diff = F(sv2 - x); term[4 * i + 2] = F(F(w * diff) * diff);
    diff = F(sv3 - x); term[4 * i + 3] = F(F(w * diff) * diff);
  }
  let bestD2 = FLT_MAX, best = -1;
  for (let j = 1; j <= n; j++) {
    const p = nb[start + j]!, g = 8 * p;
    let d2 = 0;
    let i = 0;
    // The terms are ≥ 0 (or NaN), so a partial sum that reaches bestD2 cannot end below it: stop.
    for (; i < 8 && d2 < bestD2; i++) d2 = F(d2 + term[4 * i + (grid[g + i]! >> 1)]!);
    if (i === 8 && d2 < bestD2) { bestD2 = d2; best = p; }
  }
  if (best < 0) throw new RangeError('iq2 quantizer: no neighbour at a finite distance (GGML_ASSERT(grid_index >= 0) upstream)');
  for (let i = 0; i < 8; i++) out[off + i] = (t.grid[8 * best + i]! - 1) >> 1;
  return best;
}

/** Codes for 8 values at scale 1/id, clamped to 0..2, into out[off..]; returns the lattice index. */
function roundGroup(id: number, xOff: number, out: Int32Array, off: number): number {
  let u = 0;
  for (let i = 0; i < 8; i++) {
    let l = nearestInt(F(0.5 * F(F(id * xval[xOff + i]!) - 1)));
    l = l < 0 ? 0 : l > K_MAX_Q - 1 ? K_MAX_Q - 1 : l;
    out[off + i] = l;
    u |= l << (2 * i);
  }
  return u;
}

/** Index of the codes out[off..off+8) (C builds it in a uint16_t). */
function indexOf(codes: Int32Array, off: number): number {
  let u = 0;
  for (let i = 0; i < 8; i++) u |= codes[off + i]! << (2 * i);
  return u & 0xffff;
}

/**
 * The per-value products of the candidate sums depend only on the code (0..3), so they are taken
 * once per group: wxq[4i + l] = (w·x)·q and wqq[4i + l] = (w·q)·q with q = 2l + 1, each rounded as
 * C rounds them; `sums` then only adds (same values, same order).
 */
const wxq = new Float64Array(4 * 32);
const wqq = new Float64Array(4 * 32);
function prepareSums(n: number): void {
  for (let i = 0; i < n; i++) {
    const w = weight[i]!, wx = F(w * xval[i]!);
    for (let l = 0; l < 4; l++) {
      const q = 2 * l + 1;
      wxq[4 * i + l] = F(wx * q);
      wqq[4 * i + l] = F(F(w * q) * q);
    }
  }
}

/** Σ w·x·q and Σ w·q² over n values with q = 2·codes + 1 (after `prepareSums`). */
let sumqx = 0, sumq2 = 0;
function sums(codes: Int32Array, n: number): void {
  let sx = 0, s2 = 0;
  for (let i = 0; i < n; i++) {
    const j = 4 * i + (codes[i]! & 3);
    sx = F(sx + wxq[j]!);
    s2 = F(s2 + wqq[j]!);
  }
  sumqx = sx; sumq2 = s2;
}

/**
 * Signs of 8 values xb[..8) into xval (magnitudes) and a sign byte. With `evenParity` (XXS, XS), an
 * odd count of negatives flips back the value with the least w·x², so the 7 stored bits suffice.
 */
function signs8(src: Float32Array, x: number, vOff: number, evenParity: boolean): number {
  let nflip = 0, s = 0;
  for (let i = 0; i < 8; i++) {
    const v = src[x + i]!;
    if (v >= 0) xval[vOff + i] = v;
    else { xval[vOff + i] = -v; nflip++; s |= 1 << i; }
  }
  if (evenParity && nflip % 2) {
    let imin = 0;
    let min = F(F(weight[vOff]! * src[x]!) * src[x]!);
    for (let i = 1; i < 8; i++) {
      const v = src[x + i]!;
      const ax = F(F(weight[vOff + i]! * v) * v);
      if (ax < min) { min = ax; imin = i; }
    }
    xval[vOff + imin] = -xval[vOff + imin]!;
    s ^= 1 << imin;
    return s & 127;
  }
  return evenParity ? s & 127 : s;
}

/** MAX(max, xval[i]) over n values, C's macro semantics (a NaN max is replaced by the next value). */
function maxOf(n: number): number {
  let max = xval[0]!;
  for (let i = 1; i < n; i++) max = max > xval[i]! ? max : xval[i]!;
  return max;
}

function u32le(dst: Uint8Array, o: number, v: number): void {
  dst[o] = v & 255; dst[o + 1] = (v >>> 8) & 255; dst[o + 2] = (v >>> 16) & 255; dst[o + 3] = (v >>> 24) & 255;
}

/** One row of `quantize_row_iq2_xxs_impl` (qw: weights for the row, qw[0..n)). */
export function quantizeRowIQ2_XXSImatrix(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, n: number, qw: Float32Array): void {
  const t = iq2Tables(256);
  const q2 = new Uint32Array(16);
  for (let ibl = 0; ibl < n / 256; ibl++) {
    const o = dstOff + ibl * IQ2_XXS.size;
    const xbl = srcOff + 256 * ibl;
    q2.fill(0);
    let maxScale = 0;
    const sigma2 = F(sumSquares(src, xbl, 256) / 256);
    for (let ib = 0; ib < 8; ib++) {
      const xb = xbl + 32 * ib;
      importanceWeights(src, xb, qw, 256 * ibl + 32 * ib, sigma2, 32, weight, 0);
      for (let i = 0; i < 32; i++) waux[i] = F(Math.sqrt(weight[i]!));
      for (let k = 0; k < 4; k++) blockSigns[k] = signs8(src, xb + 8 * k, 8 * k, true);
      prepareSums(32);
      const max = maxOf(32);
      if (max < GROUP_MAX_EPS) { scales[ib] = 0; L.fill(0); continue; }
      let scale = makeQpQuants(32, K_MAX_Q + 1, xval, qpL, weight);
      for (let i = 0; i < 32; i++) L[i] = (qpL[i]! << 24) >> 24; // int8_t L[] written as uint8_t
      const effMax = F(scale * K_MAX_Q);
      if (effMax <= 0) { scales[ib] = 0; L.fill(0); continue; }
      let best = 0;
      for (let is = -6; is <= 6; is++) {
        const id = F(F(2 * K_MAX_Q - 1 + F(is * F0_1)) / effMax);
        const thisScale = F(1 / id);
        for (let k = 0; k < 4; k++) {
          const u = roundGroup(id, 8 * k, Laux, 8 * k);
          if (mapAt(t, u) < 0) bestNeighbour(t, u, 8 * k, thisScale, Laux, 8 * k);
        }
        sums(Laux, 32);
        if (sumq2 > 0 && F(sumqx * sumqx) > F(best * sumq2)) {
          scale = F(sumqx / sumq2); best = F(scale * sumqx);
          L.set(Laux);
        }
      }
      if (scale > 0) {
        const id = F(1 / scale);
        for (let k = 0; k < 4; k++) {
          const u = roundGroup(id, 8 * k, L, 8 * k);
          let g = mapAt(t, u);
          if (g < 0) g = bestNeighbour(t, u, 8 * k, scale, L, 8 * k);
          for (let i = 0; i < 8; i++) L[8 * k + i] = (t.grid[8 * g + i]! - 1) >> 1;
        }
        sums(L, 32);
        if (sumq2 > 0) scale = F(sumqx / sumq2);
      }
      if (scale < 0) {
        scale = -scale;
        for (let k = 0; k < 4; k++) blockSigns[k] = ~blockSigns[k]! & 127;
      }
      for (let k = 0; k < 4; k++) {
        const g = onLattice(t, L, 8 * k);
        q2[2 * ib] = (q2[2 * ib]! | (g << (8 * k))) >>> 0;
        q2[2 * ib + 1] = (q2[2 * ib + 1]! | (blockSigns[k]! << (7 * k))) >>> 0;
      }
      scales[ib] = scale;
      maxScale = maxScale > scale ? maxScale : scale;
    }
    if (maxScale === 0) {
      writeFp16(dst, o, 0);
      dst.fill(0, o + 2, o + IQ2_XXS.size);
      continue;
    }
    const d = F(maxScale / 31);
    writeFp16(dst, o, d);
    const id = F(1 / d);
    for (let ib = 0; ib < 8; ib++) {
      const l = clamp15(nearestInt(F(0.5 * F(F(id * scales[ib]!) - 1))));
      q2[2 * ib + 1] = (q2[2 * ib + 1]! | (l << 28)) >>> 0;
    }
    for (let i = 0; i < 16; i++) u32le(dst, o + 2 + 4 * i, q2[i]!);
  }
}

/** The lattice point of codes[off..off+8); upstream aborts ("Oops: found point … not on grid") otherwise. */
function onLattice(t: Iq2Tables, codes: Int32Array, off: number): number {
  const u = indexOf(codes, off);
  const g = mapAt(t, u);
  if (g < 0) throw new RangeError(`iq2 quantizer: point ${u} not on the lattice (GGML_ABORT upstream)`);
  return g;
}

function clamp15(l: number): number {
  return l < 0 ? 0 : l > 15 ? 15 : l;
}

/**
 * The 16-value group search shared by `quantize_row_iq2_xs_impl` and `quantize_row_iq2_s_impl`
 * (they differ only in the weights, the sign rule, the zero threshold and the packing), for a group
 * whose largest magnitude is `max`: on return L[0..16) holds the lattice codes and the result is the
 * group scale.
 */
function searchGroup16(t: Iq2Tables, max: number): number {
  // Upstream clears L first: when no candidate scale improves on best = 0, the group keeps these
  // zero codes (point 0) with scale max/5.
  L.fill(0, 0, 16);
  prepareSums(16);
  let best = 0;
  let scale = F(max / (2 * K_MAX_Q - 1));
  onGrid[0] = onGrid[1] = true;
  for (let is = -9; is <= 9; is++) {
    const id = F(F(2 * K_MAX_Q - 1 + F(is * F0_1)) / max);
    const thisScale = F(1 / id);
    for (let k = 0; k < 2; k++) {
      const u = roundGroup(id, 8 * k, Laux, 8 * k);
      onGridAux[k] = true;
      if (mapAt(t, u) < 0) {
        onGridAux[k] = false;
        bestNeighbour(t, u, 8 * k, thisScale, Laux, 8 * k);
      }
    }
    sums(Laux, 16);
    if (sumq2 > 0 && F(sumqx * sumqx) > F(best * sumq2)) {
      scale = F(sumqx / sumq2); best = F(scale * sumqx);
      for (let i = 0; i < 16; i++) L[i] = Laux[i]!;
      onGrid[0] = onGridAux[0]!; onGrid[1] = onGridAux[1]!;
    }
  }
  if ((!onGrid[0] || !onGrid[1]) && scale > 0) {
    const id = F(1 / scale);
    for (let k = 0; k < 2; k++) {
      if (onGrid[k]) continue;
      const u = roundGroup(id, 8 * k, L, 8 * k);
      if (mapAt(t, u) < 0) bestNeighbour(t, u, 8 * k, scale, L, 8 * k);
    }
    sums(L, 16);
    if (sumq2 > 0) scale = F(sumqx / sumq2);
  }
  return scale;
}

/** One row of `quantize_row_iq2_xs_impl`. */
export function quantizeRowIQ2_XSImatrix(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, n: number, qw: Float32Array): void {
  const t = iq2Tables(512);
  const q2 = new Uint16Array(32);
  for (let ibl = 0; ibl < n / 256; ibl++) {
    const o = dstOff + ibl * IQ2_XS.size; // d | qs:u16[32] | scales[8]
    const xbl = srcOff + 256 * ibl;
    q2.fill(0);
    dst.fill(0, o + 66, o + 74);
    let maxScale = 0;
    const sigma2 = F(sumSquares(src, xbl, 256) / 256);
    for (let ib = 0; ib < 16; ib++) {
      const xb = xbl + 16 * ib;
      importanceWeights(src, xb, qw, 256 * ibl + 16 * ib, sigma2, 16, weight, 0);
      for (let i = 0; i < 16; i++) waux[i] = F(Math.sqrt(weight[i]!));
      for (let k = 0; k < 2; k++) blockSigns[k] = signs8(src, xb + 8 * k, 8 * k, true);
      const max = maxOf(16);
      if (max < GROUP_MAX_EPS) { scales[ib] = 0; continue; }
      let scale = searchGroup16(t, max);
      if (scale < 0) {
        scale = -scale;
        for (let k = 0; k < 2; k++) blockSigns[k] = ~blockSigns[k]! & 127;
      }
      for (let k = 0; k < 2; k++) q2[2 * ib + k] = onLattice(t, L, 8 * k) | (blockSigns[k]! << 9);
      scales[ib] = scale;
      maxScale = maxScale > scale ? maxScale : scale;
    }
    if (maxScale === 0) {
      writeFp16(dst, o, 0);
      dst.fill(0, o + 2, o + 66);
      continue;
    }
    const d = F(maxScale / 31);
    writeFp16(dst, o, d);
    const id = F(1 / d);
    for (let ib = 0; ib < 16; ib++) {
      const l = clamp15(nearestInt(F(0.5 * F(F(id * scales[ib]!) - 1))));
      if (ib % 2 === 0) dst[o + 66 + (ib >> 1)] = l;
      else dst[o + 66 + (ib >> 1)] |= l << 4;
    }
    for (let i = 0; i < 32; i++) { dst[o + 2 + 2 * i] = q2[i]! & 255; dst[o + 3 + 2 * i] = q2[i]! >>> 8; }
  }
}

/** One row of `quantize_row_iq2_s_impl` with weights, or (qw undefined) its quant_weights == NULL path. */
export function quantizeRowIQ2_SImatrix(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, n: number, qw: Float32Array | undefined): void {
  const t = iq2Tables(1024);
  for (let ibl = 0; ibl < n / 256; ibl++) {
    const o = dstOff + ibl * IQ2_S.size; // d | qs[32] | signs[32] | qh[8] | scales[8]
    dst.fill(0, o, o + IQ2_S.size);
    const xbl = srcOff + 256 * ibl;
    let maxScale = 0;
    const sigma2 = F(F(2 * sumSquares(src, xbl, 256)) / 256);
    for (let ib = 0; ib < 16; ib++) {
      const xb = xbl + 16 * ib;
      if (qw) importanceWeights(src, xb, qw, 256 * ibl + 16 * ib, sigma2, 16, weight, 0);
      else for (let i = 0; i < 16; i++) { const v = src[xb + i]!; weight[i] = F(F(0.25 * sigma2) + F(v * v)); }
      for (let i = 0; i < 16; i++) waux[i] = F(Math.sqrt(weight[i]!));
      for (let k = 0; k < 2; k++) blockSigns[k] = signs8(src, xb + 8 * k, 8 * k, false);
      const max = maxOf(16);
      if (max < GROUP_MAX_EPS_IQ2_S) { scales[ib] = 0; continue; }
      let scale = searchGroup16(t, max);
      if (scale < 0) {
        scale = -scale;
        for (let k = 0; k < 2; k++) blockSigns[k] = ~blockSigns[k]! & 255;
      }
      for (let k = 0; k < 2; k++) {
        const g = onLattice(t, L, 8 * k);
        const i8 = 2 * ib + k;
        dst[o + 2 + i8] = g & 255;
        dst[o + 66 + (i8 >> 2)] |= (g >> 8) << (2 * (i8 % 4));
        dst[o + 34 + i8] = blockSigns[k]!;
      }
      scales[ib] = scale;
      maxScale = maxScale > scale ? maxScale : scale;
    }
    if (maxScale === 0) continue;
    const d = F(maxScale / 31);
    writeFp16(dst, o, F(d * F0_9875));
    const id = F(1 / d);
    for (let ib = 0; ib < 16; ib++) {
      const l = clamp15(nearestInt(F(0.5 * F(F(id * scales[ib]!) - 1))));
      if (ib % 2 === 0) dst[o + 74 + (ib >> 1)] = l;
      else dst[o + 74 + (ib >> 1)] |= l << 4;
    }
  }
}

/** IQ2_S without an importance matrix (`quantize_row_iq2_s_ref` / quant_weights NULL), whole blocks. */
export function quantizeRowIQ2_S(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, nBlocks: number): void {
  quantizeRowIQ2_SImatrix(src, srcOff, dst, dstOff, 256 * nBlocks, undefined);
}
