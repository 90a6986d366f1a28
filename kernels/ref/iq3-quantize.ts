/**
 * IQ3_XXS and IQ3_S quantizers, as `ggml_quantize_chunk` runs them: `quantize_iq3_xxs` →
 * `quantize_row_iq3_xxs_impl(256, …)` and `quantize_iq3_s` → `quantize_row_iq3_s_impl(32, …)`,
 * with the importance weights or (NULL imatrix) x² weights. Per 32-value sub-block: signs split
 * off (IQ3_XXS keeps an even count of them by flipping the least important value), a search over
 * 31 (IQ3_XXS) or 19 (IQ3_S) candidate scales where each group of 4 codes is rounded and, when the
 * tuple is not a grid point, replaced by the best neighbour (`iq3_find_best_neighbour`), then one
 * re-pick pass at the chosen scale and 4-bit sub-block scales against a super-block fp16 d.
 * All arithmetic binary32 in C order (`F`).
 *
 * Where upstream aborts (GGML_ASSERT / GGML_ABORT: no neighbour wins, a NaN scale), these throw
 * a RangeError naming the assert instead of writing a block llama.cpp could never produce
 * (the kernels-layer convention: callers wrap it in a typed error naming the tensor).
 */
import { F, nearestInt, clampInt } from './rounding.ts';
import { writeFp16 } from './block-io.ts';
import { importanceWeights, sumSquares } from './imatrix-weights.ts';
import { iq3xsInit, type Iq3Tables } from './iq3-init.ts';
import { layoutOf } from '../block-layouts.ts';

const IQ3_XXS = layoutOf('IQ3_XXS');
const IQ3_S = layoutOf('IQ3_S');

const FLT_MAX = 3.4028234663852886e38;
const GROUP_MAX_EPS_IQ3_XXS = F(1e-8);
const F0_2 = F(0.2);
const K_MAX_Q = 8;

/** `iq3_find_best_neighbour`: the candidate of least Σ w·(scale·q − x)² (first wins ties); writes its codes to L. */
function findBestNeighbour(t: Iq3Tables, no: number, xval: Float64Array, waux: Float64Array, off: number, scale: number, L: Int32Array): number {
  const nb = t.neighbours, grid = t.grid;
  const n = nb[no]!;
  let best = FLT_MAX, gi = -1;
  for (let j = 1; j <= n; j++) {
    const p = 4 * nb[no + j]!;
    let d2 = 0;
    for (let i = 0; i < 4; i++) {
      const diff = F(F(scale * grid[p + i]!) - xval[off + i]!);
      d2 = F(d2 + F(F(waux[off + i]! * diff) * diff));
    }
    if (d2 < best) { best = d2; gi = nb[no + j]!; }
  }
  if (gi < 0) throw new RangeError('GGML_ASSERT(grid_index >= 0) failed in iq3_find_best_neighbour');
  for (let i = 0; i < 4; i++) L[off + i] = (grid[4 * gi + i]! - 1) >> 1;
  return gi;
}

// Per-sub-block scratch, as the C code's stack arrays.
const weight = new Float64Array(32);
const waux = new Float64Array(32);
const xval = new Float64Array(32);
const L = new Int32Array(32);
const Laux = new Int32Array(32);
const onGrid = new Uint8Array(8);
const onGridAux = new Uint8Array(8);
const blockSigns = new Int32Array(4);
const scales = new Float64Array(8);

/** Fills weight/waux for the 32 values at x[xOff..]. */
function subBlockWeights(x: Float32Array, xOff: number, qw: Float32Array | undefined, qwOff: number, sigma2: number): void {
  if (qw) importanceWeights(x, xOff, qw, qwOff, sigma2, 32, weight, 0);
  else for (let i = 0; i < 32; i++) { const v = x[xOff + i]!; weight[i] = F(v * v); }
  for (let i = 0; i < 32; i++) waux[i] = F(Math.sqrt(weight[i]!));
}

/** The tuple code u = Σ clamp(nearest_int(0.5·(id·x − 1)), 0, 7)·8^i of group k; codes to dst[4k..]. */
function roundGroup(id: number, k: number, dst: Int32Array): number {
  let u = 0;
  for (let i = 0; i < 4; i++) {
    const l = clampInt(nearestInt(F(F(0.5) * F(F(id * xval[4 * k + i]!) - 1))), 0, K_MAX_Q - 1);
    dst[4 * k + i] = l;
    u |= l << (3 * i);
  }
  return u;
}

/** Σ w·x·q and Σ w·q² over the 32 values with q = 2·codes + 1; into sums[0], sums[1]. */
const sums = new Float64Array(2);
function fit(codes: Int32Array): void {
  let sumqx = 0, sumq2 = 0;
  for (let i = 0; i < 32; i++) {
    const w = weight[i]!, q = 2 * codes[i]! + 1;
    sumqx = F(sumqx + F(F(w * xval[i]!) * q));
    sumq2 = F(sumq2 + F(F(w * q) * q));
  }
  sums[0] = sumqx; sums[1] = sumq2;
}

/**
 * The scale search shared by both types for one sub-block (xval, weight, waux filled): returns the
 * scale and leaves the codes in L. `nstep` is 15 (IQ3_XXS) or 9 (IQ3_S); IQ3_XXS starts with every
 * group "on grid" and re-picks only the off-grid ones, IQ3_S starts "off" and re-picks all.
 */
function searchSubBlock(t: Iq3Tables, max: number, nstep: number, xxs: boolean): number {
  let best = 0;
  let scale = F(max / (2 * K_MAX_Q - 1));
  onGrid.fill(xxs ? 1 : 0);
  for (let is = -nstep; is <= nstep; is++) {
    const id = F(F(2 * K_MAX_Q - 1 + F(is * F0_2)) / max);
    const thisScale = F(1 / id);
    for (let k = 0; k < 8; k++) {
      const u = roundGroup(id, k, Laux);
      const gi = t.map[u]!;
      onGridAux[k] = 1;
      if (gi < 0) {
        onGridAux[k] = 0;
        findBestNeighbour(t, -gi - 1, xval, waux, 4 * k, thisScale, Laux);
      }
    }
    fit(Laux);
    const sumqx = sums[0]!, sumq2 = sums[1]!;
    if (sumq2 > 0 && F(sumqx * sumqx) > F(best * sumq2)) {
      scale = F(sumqx / sumq2);
      best = F(scale * sumqx);
      L.set(Laux);
      onGrid.set(onGridAux);
    }
  }
  let notOnGrid = 0;
  for (let k = 0; k < 8; k++) if (!onGrid[k]) notOnGrid++;
  if (notOnGrid > 0 && scale > 0) {
    const id = F(1 / scale);
    for (let k = 0; k < 8; k++) {
      if (xxs && onGrid[k]) continue;
      const u = roundGroup(id, k, Laux); // only u is used; upstream writes L from the grid point
      let gi = t.map[u]!;
      if (gi < 0) gi = findBestNeighbour(t, -gi - 1, xval, waux, 4 * k, scale, L);
      for (let i = 0; i < 4; i++) L[4 * k + i] = (t.grid[4 * gi + i]! - 1) >> 1;
    }
    fit(L);
    if (sums[1]! > 0) scale = F(sums[0]! / sums[1]!);
  }
  return scale;
}

/** The grid index of group k's codes in L; upstream aborts ("Oops: found point … not on grid") otherwise. */
function gridIndexOf(t: Iq3Tables, k: number): number {
  let u = 0;
  for (let i = 0; i < 4; i++) u |= L[4 * k + i]! << (3 * i);
  const gi = t.map[u]!;
  if (gi < 0) throw new RangeError(`GGML_ABORT: found point ${u} not on grid`);
  return gi;
}

function superBlockSigma2(x: Float32Array, off: number): number {
  return F(F(2 * sumSquares(x, off, 256)) / 256);
}

function assertScale(scale: number, fn: string): void {
  if (!(scale >= 0)) throw new RangeError(`GGML_ASSERT(scale >= 0) failed in ${fn}`);
}

/** IQ3_XXS super-blocks of x[xOff..]; qw (one row of importance weights) or undefined for x² weights. */
function blocksIQ3_XXS(x: Float32Array, xOff: number, dst: Uint8Array, dstOff: number, nBlocks: number, qw: Float32Array | undefined): void {
  const t = iq3xsInit(256);
  for (let ibl = 0; ibl < nBlocks; ibl++) {
    const xbl = xOff + 256 * ibl;
    const o = dstOff + ibl * IQ3_XXS.size; // d | qs[64] | 8 × u32 scales_and_signs
    dst.fill(0, o, o + IQ3_XXS.size);
    let maxScale = 0;
    const sigma2 = superBlockSigma2(x, xbl);
    for (let ib = 0; ib < 8; ib++) {
      const xb = xbl + 32 * ib;
      subBlockWeights(x, xb, qw, 256 * ibl + 32 * ib, sigma2);
      for (let k = 0; k < 4; k++) {
        let nflip = 0, s = 0;
        for (let i = 0; i < 8; i++) {
          const v = x[xb + 8 * k + i]!;
          if (v >= 0) xval[8 * k + i] = v;
          else { xval[8 * k + i] = -v; nflip++; s |= 1 << i; }
        }
        if (nflip % 2) {
          // Flip the value that costs least (w·x²) so the 8 signs have even parity.
          let imin = 0;
          let min = F(F(weight[8 * k]! * x[xb + 8 * k]!) * x[xb + 8 * k]!);
          for (let i = 1; i < 8; i++) {
            const ax = F(F(weight[8 * k + i]! * x[xb + 8 * k + i]!) * x[xb + 8 * k + i]!);
            if (ax < min) { min = ax; imin = i; }
          }
          xval[8 * k + imin] = -xval[8 * k + imin]!;
          s ^= 1 << imin;
        }
        blockSigns[k] = s & 127;
      }
      let max = xval[0]!;
      for (let i = 1; i < 32; i++) max = max > xval[i]! ? max : xval[i]!;
      L.fill(0);
      if (max < GROUP_MAX_EPS_IQ3_XXS) { scales[ib] = 0; continue; }
      let scale = searchSubBlock(t, max, 15, true);
      if (scale < 0) {
        scale = -scale;
        for (let k = 0; k < 4; k++) blockSigns[k] = ~blockSigns[k]! & 127;
      }
      for (let k = 0; k < 8; k++) dst[o + 2 + 8 * ib + k] = gridIndexOf(t, k);
      const sas = (blockSigns[0]! | (blockSigns[1]! << 7) | (blockSigns[2]! << 14) | (blockSigns[3]! << 21)) >>> 0;
      writeU32(dst, o + 66 + 4 * ib, sas);
      assertScale(scale, 'quantize_row_iq3_xxs_impl');
      scales[ib] = scale;
      maxScale = maxScale > scale ? maxScale : scale;
    }
    if (!maxScale) { dst.fill(0, o, o + IQ3_XXS.size); continue; }
    const d = F(maxScale / 31);
    writeFp16(dst, o, F(d * F(1.0125)));
    const id = F(1 / d);
    for (let ib = 0; ib < 8; ib++) {
      const l = clampInt(nearestInt(F(F(0.5) * F(F(id * scales[ib]!) - 1))), 0, 15);
      dst[o + 66 + 4 * ib + 3] |= l << 4;
    }
  }
}

function writeU32(dst: Uint8Array, o: number, v: number): void {
  dst[o] = v & 255; dst[o + 1] = (v >>> 8) & 255; dst[o + 2] = (v >>> 16) & 255; dst[o + 3] = v >>> 24;
}

/** IQ3_S super-blocks (`quantize_row_iq3_s_impl` with block_size 32). */
function blocksIQ3_S(x: Float32Array, xOff: number, dst: Uint8Array, dstOff: number, nBlocks: number, qw: Float32Array | undefined): void {
  const t = iq3xsInit(512);
  for (let ibl = 0; ibl < nBlocks; ibl++) {
    const xbl = xOff + 256 * ibl;
    const o = dstOff + ibl * IQ3_S.size; // d | qs[64] | qh[8] | signs[32] | scales[4]
    dst.fill(0, o, o + IQ3_S.size);
    // Upstream advances its qs/signs pointers only for sub-blocks it quantizes: after an all-zero
    // sub-block the later ones land one slot early (qh is indexed by ib and stays in place).
    let qs = o + 2, signs = o + 74;
    const qh = o + 66;
    let maxScale = 0;
    const sigma2 = superBlockSigma2(x, xbl);
    for (let ib = 0; ib < 8; ib++) {
      const xb = xbl + 32 * ib;
      subBlockWeights(x, xb, qw, 256 * ibl + 32 * ib, sigma2);
      for (let k = 0; k < 4; k++) {
        let s = 0;
        for (let i = 0; i < 8; i++) {
          const v = x[xb + 8 * k + i]!;
          if (v >= 0) xval[8 * k + i] = v;
          else { xval[8 * k + i] = -v; s |= 1 << i; }
        }
        blockSigns[k] = s;
      }
      let max = xval[0]!;
      for (let i = 1; i < 32; i++) max = max > xval[i]! ? max : xval[i]!;
      L.fill(0);
      if (max === 0) { scales[ib] = 0; continue; }
      let scale = searchSubBlock(t, max, 9, false);
      if (scale < 0) {
        scale = -scale;
        for (let k = 0; k < 4; k++) blockSigns[k] = ~blockSigns[k]! & 255;
      }
      for (let k = 0; k < 8; k++) {
        const gi = gridIndexOf(t, k);
        dst[qs + k] = gi & 255;
        dst[qh + ib] |= (gi >> 8) << k;
      }
      qs += 8;
      for (let k = 0; k < 4; k++) dst[signs + k] = blockSigns[k]!;
      signs += 4;
      assertScale(scale, 'quantize_row_iq3_s_impl');
      scales[ib] = scale;
      maxScale = maxScale > scale ? maxScale : scale;
    }
    if (!maxScale) continue;
    const d = F(maxScale / 31);
    writeFp16(dst, o, F(d * F(1.033)));
    const id = F(1 / d);
    for (let ib = 0; ib < 8; ib += 2) {
      const l1 = clampInt(nearestInt(F(F(0.5) * F(F(id * scales[ib]!) - 1))), 0, 15);
      const l2 = clampInt(nearestInt(F(F(0.5) * F(F(id * scales[ib + 1]!) - 1))), 0, 15);
      dst[o + 106 + (ib >> 1)] = l1 | (l2 << 4);
    }
  }
}

/** NULL-imatrix path over whole blocks (rows are independent without an imatrix). */
export function quantizeRowIQ3_XXS(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, nBlocks: number): void {
  blocksIQ3_XXS(src, srcOff, dst, dstOff, nBlocks, undefined);
}

/** One row with importance weights qw[0..nPerRow). */
export function quantizeRowIQ3_XXSImatrix(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, nPerRow: number, qw: Float32Array): void {
  blocksIQ3_XXS(src, srcOff, dst, dstOff, nPerRow / 256, qw);
}

export function quantizeRowIQ3_S(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, nBlocks: number): void {
  blocksIQ3_S(src, srcOff, dst, dstOff, nBlocks, undefined);
}

/** One row with importance weights qw[0..nPerRow). */
export function quantizeRowIQ3_SImatrix(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, nPerRow: number, qw: Float32Array): void {
  blocksIQ3_S(src, srcOff, dst, dstOff, nPerRow / 256, qw);
}
