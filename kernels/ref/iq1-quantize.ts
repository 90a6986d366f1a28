/**
 * IQ1_S and IQ1_M quantizers, as `ggml_quantize_chunk` runs them: `quantize_iq1_s` →
 * `quantize_row_iq1_s_impl` (importance weights required: llama.cpp asserts them) and
 * `quantize_iq1_m` → `quantize_row_iq1_m_impl` (x² weights without an imatrix).
 *
 * Per sub-block (32 values for IQ1_S, 16 for IQ1_M): the values are sorted (glibc qsort order,
 * glibc-msort.ts) and every split into three runs (codes 0, 1, 2 → −1, 0, +1 shifted by ±1/8) is
 * scored exactly from prefix sums; IQ1_M picks the delta sign per 8-value half. Code tuples off the
 * 2048-point lattice are replaced by the best neighbour (`iq1_find_best_neighbour2`). The 3-bit
 * sub-block scales are then taken against a super-block d; IQ1_M refits d by least squares.
 * All arithmetic binary32 in C order (`F`).
 *
 * Where upstream aborts (GGML_ASSERT) these throw a RangeError naming the assert.
 */
import { F, nearestInt, clampInt } from './rounding.ts';
import { writeFp16 } from './block-io.ts';
import { fp32ToFp16 } from '../fp16.ts';
import { importanceWeights, sumSquares } from './imatrix-weights.ts';
import { iq2Tables, type Iq2Tables } from './iq2-init.ts';
import { msortByValue } from './glibc-msort.ts';
import { IQ1S_DELTA } from './iq1.ts';
import { layoutOf } from '../block-layouts.ts';

const IQ1_S = layoutOf('IQ1_S');
const IQ1_M = layoutOf('IQ1_M');

const FLT_MAX = 3.4028234663852886e38;
const NGRID_IQ1S = 2048;
const GROUP_MAX_EPS_IQ1_S = F(1e-12);
const GROUP_MAX_EPS_IQ1_M = F(1e-7);
/** The shifted code values: x_p for a +delta sub-block, x_m for −delta. */
const X_P = Float64Array.of(F(-1 + IQ1S_DELTA), IQ1S_DELTA, F(1 + IQ1S_DELTA));
const X_M = Float64Array.of(F(-1 - IQ1S_DELTA), -IQ1S_DELTA, F(1 - IQ1S_DELTA));

/**
 * `iq1_find_best_neighbour2`: the candidate of least Σ w·(scale·xg[code] − x)² (first wins ties),
 * codes written to L[lOff..lOff+8). x/w are read at x[xOff + i] / w[wOff + i].
 */
function findBestNeighbour2(
  t: Iq2Tables, no: number, x: Float32Array, xOff: number, w: Float64Array, wOff: number, scale: number, xg: Float64Array,
  L: Int32Array, lOff: number,
): number {
  const nb = t.neighbours, grid = t.grid;
  const n = nb[no]!;
  if (!(n > 0)) throw new RangeError('GGML_ASSERT(num_neighbors > 0) failed in iq1_find_best_neighbour2');
  let best = FLT_MAX, gi = -1;
  for (let j = 1; j <= n; j++) {
    const p = 8 * nb[no + j]!;
    let d2 = 0;
    for (let i = 0; i < 8; i++) {
      const diff = F(F(scale * xg[(grid[p + i]! - 1) >> 1]!) - x[xOff + i]!);
      d2 = F(d2 + F(F(w[wOff + i]! * diff) * diff));
    }
    if (d2 < best) { best = d2; gi = nb[no + j]!; }
  }
  if (gi < 0) {
    // Upstream's full-lattice fallback indexes xval by the grid point number (xval[i], i up to
    // 2047), reading the source row past this group. We read the same floats where they exist.
    for (let i = 0; i < NGRID_IQ1S; i++) {
      if (xOff + i >= x.length) throw new RangeError('iq1_find_best_neighbour2: upstream reads past the input here (undefined behaviour)');
      const xi = x[xOff + i]!;
      let d2 = 0;
      for (let j = 0; j < 8; j++) {
        const diff = F(F(scale * xg[(grid[8 * i + j]! - 1) >> 1]!) - xi);
        d2 = F(d2 + F(F(w[wOff + j]! * diff) * diff));
      }
      if (d2 < best) { best = d2; gi = i; }
    }
  }
  if (gi < 0) throw new RangeError('GGML_ASSERT(grid_index >= 0) failed in iq1_find_best_neighbour2');
  for (let i = 0; i < 8; i++) L[lOff + i] = (grid[8 * gi + i]! - 1) >> 1;
  return gi;
}

// Scratch, as the C callers' arrays.
const weight = new Float64Array(32);
const L = new Int32Array(32);
const vals = new Float64Array(32);
const perm = new Int32Array(32);
const tmp = new Int32Array(32);
const sumx = new Float64Array(33);
const sumw = new Float64Array(33);
const index = new Int32Array(4);
const cP = new Float64Array(33), cM = new Float64Array(33), qcP = new Float64Array(33), qcM = new Float64Array(33);
const scales = new Float64Array(16);
const shifts = new Int32Array(16);

function superBlockSigma2(x: Float32Array, off: number): number {
  return F(F(2 * sumSquares(x, off, 256)) / 256);
}

/** weight[0..n) for the n values at x[xb..]: importance weights or x². */
function subBlockWeights(x: Float32Array, xb: number, n: number, qw: Float32Array | undefined, qwOff: number, sigma2: number): void {
  if (qw) importanceWeights(x, xb, qw, qwOff, sigma2, n, weight, 0);
  else for (let i = 0; i < n; i++) { const v = x[xb + i]!; weight[i] = F(v * v); }
}

/** max |x| over n values, with C's MAX(a, b) = a > b ? a : b. */
function absMax(x: Float32Array, xb: number, n: number): number {
  let max = Math.abs(x[xb]!);
  for (let i = 1; i < n; i++) { const a = Math.abs(x[xb + i]!); max = max > a ? max : a; }
  return max;
}

/** Sorts the n values at x[xb..] (perm gets their positions) and sets L from the split (i1, i2). */
function sortValues(x: Float32Array, xb: number, n: number): void {
  for (let j = 0; j < n; j++) { vals[j] = x[xb + j]!; perm[j] = j; }
  msortByValue(vals, perm, n, tmp);
}

function codesFromSplit(n: number, i1: number, i2: number): void {
  for (let j = 0; j < i1; j++) L[perm[j]!] = 0;
  for (let j = i1; j < i2; j++) L[perm[j]!] = 1;
  for (let j = i2; j < n; j++) L[perm[j]!] = 2;
}

/** The lattice index of group k's 8 codes in L, or −(offset+1) of its neighbour list. */
function latticeCode(t: Iq2Tables, k: number): number {
  let u = 0;
  for (let j = 0; j < 8; j++) u |= L[8 * k + j]! << (2 * j);
  return t.map[u]!;
}

/** Adds group k's Σ w·q·x and Σ w·q² (q = xx[code of lattice point gi]) to acc[0], acc[1]. */
function accumulateGroup(t: Iq2Tables, x: Float32Array, xb: number, k: number, gi: number, xx: Float64Array, mul: number, acc: Float64Array): void {
  for (let j = 0; j < 8; j++) {
    const w = weight[8 * k + j]!;
    const q = mul === 1 ? xx[(t.grid[8 * gi + j]! - 1) >> 1]! : F(xx[(t.grid[8 * gi + j]! - 1) >> 1]! * mul);
    acc[0] = F(acc[0]! + F(F(w * q) * x[xb + 8 * k + j]!));
    acc[1] = F(acc[1]! + F(F(w * q) * q));
  }
}
const acc = new Float64Array(2);

function assertScale(scale: number, fn: string): void {
  if (!(scale >= 0)) throw new RangeError(`GGML_ASSERT(scale >= 0) failed in ${fn}`);
}

/** One row of IQ1_S (`quantize_row_iq1_s_impl`): qw is required, as upstream asserts. */
function blocksIQ1_S(x: Float32Array, xOff: number, dst: Uint8Array, dstOff: number, nBlocks: number, qw: Float32Array): void {
  const t = iq2Tables(2048);
  for (let ibl = 0; ibl < nBlocks; ibl++) {
    const xbl = xOff + 256 * ibl;
    const o = dstOff + ibl * IQ1_S.size; // d | qs[32] | qh u16[8]
    dst.fill(0, o, o + IQ1_S.size);
    let maxScale = 0;
    const sigma2 = superBlockSigma2(x, xbl);
    for (let ib = 0; ib < 8; ib++) {
      const xb = xbl + 32 * ib;
      subBlockWeights(x, xb, 32, qw, 256 * ibl + 32 * ib, sigma2);
      const max = absMax(x, xb, 32);
      if (max < GROUP_MAX_EPS_IQ1_S) { scales[ib] = 0; shifts[ib] = 1; continue; }
      sortValues(x, xb, 32);
      sumx[0] = 0; sumw[0] = 0;
      for (let j = 0; j < 32; j++) {
        const i = perm[j]!;
        sumx[j + 1] = F(sumx[j]! + F(weight[i]! * x[xb + i]!));
        sumw[j + 1] = F(sumw[j]! + weight[i]!);
      }
      let bestScore = -FLT_MAX, scale = max;
      let besti1 = -1, besti2 = -1, bestShift = 0;
      // The three runs' terms of sumqx = a·v0 + b·v1 + c·v2 and sumq2 = wa·v0·v0 + wb·v1·v1 + wc·v2·v2,
      // each rounded as C rounds it: the i2-only terms are tabulated, the i1-only ones hoisted. The
      // middle value is ±1/8 for x_p/x_m, so its x_m terms are the x_p ones negated (b) or equal (wb).
      for (let i2 = 0; i2 <= 32; i2++) {
        const c = F(sumx[32]! - sumx[i2]!), wc = F(sumw[32]! - sumw[i2]!);
        cP[i2] = F(c * X_P[2]!); cM[i2] = F(c * X_M[2]!);
        qcP[i2] = F(F(wc * X_P[2]!) * X_P[2]!); qcM[i2] = F(F(wc * X_M[2]!) * X_M[2]!);
      }
      for (let i1 = 0; i1 <= 32; i1++) {
        const a = F(sumx[i1]! - sumx[0]!), wa = F(sumw[i1]! - sumw[0]!);
        const aP = F(a * X_P[0]!), aM = F(a * X_M[0]!);
        const qaP = F(F(wa * X_P[0]!) * X_P[0]!), qaM = F(F(wa * X_M[0]!) * X_M[0]!);
        for (let i2 = i1; i2 <= 32; i2++) {
          const bP = F(F(sumx[i2]! - sumx[i1]!) * X_P[1]!);
          const wb = F(sumw[i2]! - sumw[i1]!);
          const qb = F(F(wb * X_P[1]!) * X_P[1]!);
          let sumqx = F(F(aP + bP) + cP[i2]!);
          let sumq2 = F(F(qaP + qb) + qcP[i2]!);
          if (sumq2 > 0 && F(sumqx * sumqx) > F(bestScore * sumq2)) {
            scale = F(sumqx / sumq2); bestScore = F(scale * sumqx);
            besti1 = i1; besti2 = i2; bestShift = 1;
          }
          sumqx = F(F(aM - bP) + cM[i2]!);
          sumq2 = F(F(qaM + qb) + qcM[i2]!);
          if (sumq2 > 0 && F(sumqx * sumqx) > F(bestScore * sumq2)) {
            scale = F(sumqx / sumq2); bestScore = F(scale * sumqx);
            besti1 = i1; besti2 = i2; bestShift = -1;
          }
        }
      }
      if (besti1 < 0 || besti2 < 0 || bestShift === 0) { scales[ib] = 0; shifts[ib] = 1; continue; }
      codesFromSplit(32, besti1, besti2);
      if (scale < 0) {
        for (let j = 0; j < 32; j++) L[j] = 2 - L[j]!;
        scale = -scale; bestShift = -bestShift;
      }
      let allOnGrid = true;
      const xx = bestShift === 1 ? X_P : X_M;
      for (let k = 0; k < 4; k++) {
        let gi = latticeCode(t, k);
        if (gi < 0) {
          allOnGrid = false;
          gi = findBestNeighbour2(t, -gi - 1, x, xb + 8 * k, weight, 8 * k, scale, xx, L, 8 * k);
        }
        index[k] = gi;
      }
      if (!allOnGrid) {
        acc[0] = 0; acc[1] = 0;
        for (let k = 0; k < 4; k++) accumulateGroup(t, x, xb, k, index[k]!, xx, 1, acc);
        if (acc[0]! > 0 && acc[1]! > 0) scale = F(acc[0]! / acc[1]!);
      }
      let h = 0;
      for (let k = 0; k < 4; k++) {
        dst[o + 2 + 4 * ib + k] = index[k]! & 255;
        h |= (index[k]! >> 8) << (3 * k);
      }
      dst[o + 34 + 2 * ib] = h & 255;
      dst[o + 35 + 2 * ib] = h >> 8;
      assertScale(scale, 'quantize_row_iq1_s_impl');
      scales[ib] = scale;
      shifts[ib] = bestShift;
      maxScale = maxScale > scale ? maxScale : scale;
    }
    if (!maxScale) continue;
    const d = F(maxScale / 15);
    writeFp16(dst, o, F(d * F(1.125)));
    const id = F(1 / d);
    for (let ib = 0; ib < 8; ib++) {
      let l = clampInt(nearestInt(F(F(0.5) * F(F(id * scales[ib]!) - 1))), 0, 7);
      if (shifts[ib] === -1) l |= 8;
      dst[o + 35 + 2 * ib] |= l << 4; // qh[ib] |= l << 12
    }
  }
}

// IQ1_M split search: prefix sums per 8-value half (each half has its own delta sign).
const px = [new Float64Array(17), new Float64Array(17)] as const;
const pw = [new Float64Array(17), new Float64Array(17)] as const;
const MASKS = [0x00, 0x80, 0x08, 0x88] as const;
const CP1 = F(F(X_P[0]! * X_P[0]!) - F(X_P[1]! * X_P[1]!));
const CP2 = F(F(X_P[1]! * X_P[1]!) - F(X_P[2]! * X_P[2]!));
const CM1 = F(F(X_M[0]! * X_M[0]!) - F(X_M[1]! * X_M[1]!));
const CM2 = F(F(X_M[1]! * X_M[1]!) - F(X_M[2]! * X_M[2]!));
const qxP = new Float64Array(2), qxM = new Float64Array(2), q2P = new Float64Array(2), q2M = new Float64Array(2);
const sumqx4 = new Float64Array(4), sumq24 = new Float64Array(4);
const txP = new Float64Array(2), txM = new Float64Array(2), twP = new Float64Array(2), twM = new Float64Array(2);
const halves = () => [new Float64Array(17), new Float64Array(17)] as const;
const w1P = halves(), w1M = halves(), w2P = halves(), w2M = halves();

/** The shifted code values of group k (0 or 1) of a sub-block with delta choice best_k. */
function groupValues(bestK: number, k: number): Float64Array {
  return k === 0 ? (bestK < 2 ? X_P : X_M) : (bestK % 2 === 0 ? X_P : X_M);
}

/** One row of IQ1_M (`quantize_row_iq1_m_impl`), with importance weights or (undefined) x². */
function blocksIQ1_M(x: Float32Array, xOff: number, dst: Uint8Array, dstOff: number, nBlocks: number, qw: Float32Array | undefined): void {
  const t = iq2Tables(2048);
  for (let ibl = 0; ibl < nBlocks; ibl++) {
    const xbl = xOff + 256 * ibl;
    const o = dstOff + ibl * IQ1_M.size; // qs[32] | qh[16] | scales: u16[4]
    const qh = o + 32, sc = o + 48;
    dst.fill(0, o, o + IQ1_M.size);
    let maxScale = 0;
    const sigma2 = superBlockSigma2(x, xbl);
    for (let ib = 0; ib < 16; ib++) {
      const xb = xbl + 16 * ib;
      subBlockWeights(x, xb, 16, qw, 256 * ibl + 16 * ib, sigma2);
      const max = absMax(x, xb, 16);
      if (max < GROUP_MAX_EPS_IQ1_M) { scales[ib] = 0; shifts[ib] = 0; continue; }
      sortValues(x, xb, 16);
      let bestScore = -FLT_MAX, scale = max;
      let besti1 = -1, besti2 = -1, bestK = -1;
      px[0][0] = px[1][0] = 0;
      pw[0][0] = pw[1][0] = 0;
      for (let j = 0; j < 16; j++) {
        const i = perm[j]!;
        const h = i < 8 ? 0 : 1;
        px[h][j + 1] = F(px[h][j]! + F(weight[i]! * x[xb + i]!));
        px[1 - h]![j + 1] = px[1 - h]![j]!;
        pw[h][j + 1] = F(pw[h][j]! + weight[i]!);
        pw[1 - h]![j + 1] = pw[1 - h]![j]!;
      }
      // Per half h: txs·p2, tws·p2·p2 (and the m2 ones) are constants, pw[i1]·cp1 depends on i1 only
      // and pw[i2]·cp2 on i2 only: tabulated, each rounded where C rounds it.
      const p2 = X_P[2]!, m2 = X_M[2]!;
      for (let h = 0; h < 2; h++) {
        const pxh = px[h]!, pwh = pw[h]!;
        txP[h] = F(pxh[16]! * p2); txM[h] = F(pxh[16]! * m2);
        twP[h] = F(F(pwh[16]! * p2) * p2); twM[h] = F(F(pwh[16]! * m2) * m2);
        for (let i = 0; i <= 16; i++) {
          w1P[h]![i] = F(pwh[i]! * CP1); w1M[h]![i] = F(pwh[i]! * CM1);
          w2P[h]![i] = F(pwh[i]! * CP2); w2M[h]![i] = F(pwh[i]! * CM2);
        }
      }
      for (let i1 = 0; i1 <= 16; i1++) {
        const a0P = F(twP[0]! + w1P[0]![i1]!), a0M = F(twM[0]! + w1M[0]![i1]!);
        const a1P = F(twP[1]! + w1P[1]![i1]!), a1M = F(twM[1]! + w1M[1]![i1]!);
        const px0 = px[0][i1]!, px1 = px[1][i1]!;
        for (let i2 = i1; i2 <= 16; i2++) {
          const sx0 = F(px0 + px[0][i2]!), sx1 = F(px1 + px[1][i2]!);
          qxP[0] = F(txP[0]! - sx0); qxM[0] = F(txM[0]! - sx0);
          qxP[1] = F(txP[1]! - sx1); qxM[1] = F(txM[1]! - sx1);
          q2P[0] = F(a0P + w2P[0]![i2]!); q2M[0] = F(a0M + w2M[0]![i2]!);
          q2P[1] = F(a1P + w2P[1]![i2]!); q2M[1] = F(a1M + w2M[1]![i2]!);
          sumqx4[0] = F(qxP[0]! + qxP[1]!); sumqx4[1] = F(qxP[0]! + qxM[1]!);
          sumqx4[2] = F(qxM[0]! + qxP[1]!); sumqx4[3] = F(qxM[0]! + qxM[1]!);
          sumq24[0] = F(q2P[0]! + q2P[1]!); sumq24[1] = F(q2P[0]! + q2M[1]!);
          sumq24[2] = F(q2M[0]! + q2P[1]!); sumq24[3] = F(q2M[0]! + q2M[1]!);
          for (let k = 0; k < 4; k++) {
            const sq = sumqx4[k]!, s2 = sumq24[k]!;
            if (s2 > 0 && F(sq * sq) > F(bestScore * s2)) {
              scale = F(sq / s2); bestScore = F(scale * sq);
              besti1 = i1; besti2 = i2; bestK = k;
            }
          }
        }
      }
      if (besti1 < 0 || besti2 < 0 || bestK < 0) { scales[ib] = 0; shifts[ib] = 0; continue; }
      codesFromSplit(16, besti1, besti2);
      if (scale < 0) {
        for (let j = 0; j < 16; j++) L[j] = 2 - L[j]!;
        scale = -scale;
        bestK = 3 - bestK;
      }
      let allOnGrid = true;
      for (let k = 0; k < 2; k++) {
        let gi = latticeCode(t, k);
        if (gi < 0) {
          allOnGrid = false;
          gi = findBestNeighbour2(t, -gi - 1, x, xb + 8 * k, weight, 8 * k, scale, groupValues(bestK, k), L, 8 * k);
        }
        index[k] = gi;
      }
      if (!allOnGrid) {
        acc[0] = 0; acc[1] = 0;
        for (let k = 0; k < 2; k++) accumulateGroup(t, x, xb, k, index[k]!, groupValues(bestK, k), 1, acc);
        if (acc[0]! > 0 && acc[1]! > 0) scale = F(acc[0]! / acc[1]!);
      }
      dst[o + 2 * ib] = index[0]! & 255;
      dst[o + 2 * ib + 1] = index[1]! & 255;
      dst[qh + ib] = (index[0]! >> 8) | ((index[1]! >> 8) << 4);
      assertScale(scale, 'quantize_row_iq1_m_impl');
      scales[ib] = scale;
      shifts[ib] = bestK;
      maxScale = maxScale > scale ? maxScale : scale;
    }
    if (!maxScale) continue;
    let d = F(maxScale / 15);
    const id = F(1 / d);
    acc[0] = 0; acc[1] = 0;
    for (let ib = 0; ib < 16; ib++) {
      const l = clampInt(nearestInt(F(F(0.5) * F(F(id * scales[ib]!) - 1))), 0, 7);
      orU16(dst, sc + 2 * (ib >> 2), l << (3 * (ib % 4)));
      dst[qh + ib] |= MASKS[shifts[ib]!]!;
      const xb = xbl + 16 * ib;
      subBlockWeights(x, xb, 16, qw, 256 * ibl + 16 * ib, sigma2);
      for (let k = 0; k < 2; k++) {
        const gi = dst[o + 2 * ib + k]! + ((dst[qh + ib]! << (8 - 4 * k)) & 0x700);
        accumulateGroup(t, x, xb, k, gi, groupValues(shifts[ib]!, k), 2 * l + 1, acc);
      }
    }
    if (acc[1]! > 0) d = F(acc[0]! / acc[1]!);
    const s = fp32ToFp16(F(d * F(1.1125)));
    orU16(dst, sc, (s & 0x000f) << 12);
    orU16(dst, sc + 2, (s & 0x00f0) << 8);
    orU16(dst, sc + 4, (s & 0x0f00) << 4);
    orU16(dst, sc + 6, s & 0xf000);
  }
}

function orU16(dst: Uint8Array, o: number, v: number): void {
  dst[o] |= v & 255;
  dst[o + 1] |= (v >>> 8) & 255;
}

/** One row of IQ1_S with importance weights qw[0..nPerRow) (there is no NULL-imatrix IQ1_S). */
export function quantizeRowIQ1_SImatrix(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, nPerRow: number, qw: Float32Array): void {
  blocksIQ1_S(src, srcOff, dst, dstOff, nPerRow / 256, qw);
}

/** NULL-imatrix IQ1_M over whole blocks (rows are independent without an imatrix). */
export function quantizeRowIQ1_M(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, nBlocks: number): void {
  blocksIQ1_M(src, srcOff, dst, dstOff, nBlocks, undefined);
}

/** One row of IQ1_M with importance weights qw[0..nPerRow). */
export function quantizeRowIQ1_MImatrix(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, nPerRow: number, qw: Float32Array): void {
  blocksIQ1_M(src, srcOff, dst, dstOff, nPerRow / 256, qw);
}
