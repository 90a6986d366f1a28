// IQ2_XXS, IQ2_XS and IQ2_S with an importance matrix (and IQ2_S without): `quantize_iq2_xxs` →
// `quantize_row_iq2_xxs_impl`, `quantize_iq2_xs` → `quantize_row_iq2_xs_impl`, `quantize_iq2_s` →
// `quantize_row_iq2_s_impl` (ggml-quants.c), byte-identical to kernels/ref/iq2-quantize.ts (see
// there for the algorithm). The candidate-scale search runs in iq2-search.ts; the tables come from
// iq2-init.ts (built on first use in this instance, as ggml_quantize_init does).
//
// Exports take whole rows: (x, y, nrows, nPerRow, qw), qw the row's nPerRow importance weights;
// quantizeIQ2_S(x, y, blocks) is the quant_weights == NULL path. Where upstream aborts (no neighbour
// at a finite distance, a point off the lattice) these abort too: only non-finite values get there.
import { fp32ToFp16, nearestInt } from './numeric';
import { makeQpQuants } from './qp-quants';
import { iq2Grid, iq2Map, iq2Neighbours, IQ2_MAP_SIZE } from './iq2-init';
import { XVAL, WEIGHT, WAUX, LBEST, iq2Groups, iq2GroupOffsets, bestNeighbour, roundGroup, prepareSums, sums, sumQX, sumQ2, CAND, CAND_SX, CAND_S2, sums4 } from './iq2-search';

const QP_L = memory.data(32, 16);
const SCALES = memory.data(16 * 4, 16);
const SIGNS = memory.data(4, 16);
const Q2 = memory.data(64, 16);

const K_MAX_Q = 3;
/** 2·kMaxQ − 1, as the float C converts it to. */
const TOP: f32 = 5;

// The lattice of the row being quantized (set by useLattice).
let grid: usize = 0, map: usize = 0, nb: usize = 0, groups: usize = 0, goff: usize = 0;

function useLattice(size: i32): void {
  grid = iq2Grid(size); map = iq2Map(size); nb = iq2Neighbours(size); groups = iq2Groups(size); goff = iq2GroupOffsets(size);
}

// @ts-ignore: decorator
@inline function ldf(p: usize, i: i32): f32 { return load<f32>(p + (<usize>i << 2)); }

/** Snaps the 8 codes at out (from roundGroup, index u) to the lattice: the best neighbour if off it. */
// @ts-ignore: decorator
@inline function snap(u: i32, k: i32, scale: f32, out: usize): i32 {
  const g = load<i32>(map + (<usize>u << 2));
  if (g >= 0) return g;
  return search(u, g, k, scale, out);
}

/** bestNeighbour for the off-lattice index u (map value g) on half/quarter k of the group. */
// @ts-ignore: decorator
@inline function search(u: i32, g: i32, k: i32, scale: f32, out: usize): i32 {
  const gs = groups + (<usize>load<i32>(goff + (<usize>u << 2)) << 5);
  return bestNeighbour(nb + (<usize>(-g - 1) << 1), gs, grid, XVAL + (<usize>k << 5), WAUX + (<usize>k << 5), scale, out);
}

/** The lattice point of the 8 int8 codes at L (C builds the index in a uint16_t); aborts off the lattice. */
function onLattice(L: usize): i32 {
  let u = 0;
  for (let i = 0; i < 8; i++) u |= <i32>load<i8>(L + i) << (2 * i);
  u &= 0xffff;
  if (u >= IQ2_MAP_SIZE) abort('iq2 quantizer: lattice index past the map (non-finite input?)');
  const g = load<i32>(map + (<usize>u << 2));
  if (g < 0) abort('iq2 quantizer: point not on the lattice (GGML_ABORT upstream)');
  return g;
}

/** Σ x² over 256 values in order. */
function sumSquares256(x: usize): f32 {
  let s: f32 = 0;
  for (let i = 0; i < 256; i++) { const v = ldf(x, i); s += v * v; }
  return s;
}

/**
 * weight = qw·sqrtf(σ² + x²) (or, without qw, 0.25·σ² + x²), waux = sqrtf(weight), and the
 * magnitudes into XVAL with sign bytes into SIGNS: with `parity` (XXS, XS) an odd count of
 * negatives flips back the value with the least w·x² and 7 bits are kept.
 */
function groupSetup(xb: usize, qw: usize, sigma2: f32, n: i32, parity: bool): void {
  for (let i = 0; i < n; i++) {
    const v = ldf(xb, i);
    const w: f32 = qw ? ldf(qw, i) * sqrt<f32>(sigma2 + v * v) : <f32>0.25 * sigma2 + v * v;
    store<f32>(WEIGHT + (<usize>i << 2), w);
    store<f32>(WAUX + (<usize>i << 2), sqrt<f32>(w));
  }
  for (let k = 0; k < n >> 3; k++) {
    let nflip = 0, s = 0;
    for (let i = 0; i < 8; i++) {
      const v = ldf(xb, 8 * k + i);
      if (v >= 0) store<f32>(XVAL + (<usize>(8 * k + i) << 2), v);
      else { store<f32>(XVAL + (<usize>(8 * k + i) << 2), -v); nflip++; s |= 1 << i; }
    }
    if (parity && (nflip & 1)) {
      let imin = 0;
      let v = ldf(xb, 8 * k);
      let min: f32 = ldf(WEIGHT, 8 * k) * v * v;
      for (let i = 1; i < 8; i++) {
        v = ldf(xb, 8 * k + i);
        const ax: f32 = ldf(WEIGHT, 8 * k + i) * v * v;
        if (ax < min) { min = ax; imin = i; }
      }
      const p = XVAL + (<usize>(8 * k + imin) << 2);
      store<f32>(p, -load<f32>(p));
      s ^= 1 << imin;
    }
    store<u8>(SIGNS + k, <u8>(parity ? s & 127 : s));
  }
}

/** MAX(max, xval[i]) over n values, the C macro (a NaN max is replaced by the next value). */
function maxOf(n: i32): f32 {
  let max = ldf(XVAL, 0);
  for (let i = 1; i < n; i++) { const v = ldf(XVAL, i); max = max > v ? max : v; }
  return max;
}

/** The 4-bit group scales against d = maxScale/31: nearest_int(0.5·(id·s − 1)) clamped to 0..15. */
// @ts-ignore: decorator
@inline function scaleCode(id: f32, s: f32): i32 {
  const l = nearestInt(<f32>0.5 * (id * s - 1));
  return l < 0 ? 0 : l > 15 ? 15 : l;
}

/** Returned by a group search for a group upstream skips (`continue`: scale 0, nothing packed). */
const SKIPPED: f32 = -1;

/** One group of 32 of quantize_row_iq2_xxs_impl: codes in LBEST, returns the scale or SKIPPED. */
function groupXXS(): f32 {
  const max = maxOf(32);
  if (max < <f32>1e-15) return SKIPPED;
  let scale = makeQpQuants(32, K_MAX_Q + 1, XVAL, QP_L, WEIGHT);
  memory.copy(LBEST, QP_L, 32); // the int8_t L[] that make_qp_quants wrote as uint8_t
  const effMax: f32 = scale * <f32>K_MAX_Q;
  if (effMax <= 0) return SKIPPED;
  prepareSums(32);
  // The 13 candidates' codes first (they do not depend on each other), then their sums 4 at a
  // time, then C's sequential choice over them.
  for (let c = 0; c < 13; c++) {
    const id: f32 = (TOP + <f32>(c - 6) * <f32>0.1) / effMax;
    const thisScale: f32 = 1 / id;
    for (let k = 0; k < 4; k++) {
      const out = CAND + <usize>(32 * c + 8 * k);
      snap(roundGroup(id, XVAL + (<usize>k << 5), out), k, thisScale, out);
    }
  }
  for (let c = 0; c < 13; c += 4) sums4(c, 32, 32); // the 16th lane reads codes past the last: ignored
  let best: f32 = 0, bestC = -1;
  for (let c = 0; c < 13; c++) {
    const sx = load<f32>(CAND_SX + (<usize>c << 2)), s2 = load<f32>(CAND_S2 + (<usize>c << 2));
    if (s2 > 0 && sx * sx > best * s2) { scale = sx / s2; best = scale * sx; bestC = c; }
  }
  if (bestC >= 0) memory.copy(LBEST, CAND + <usize>(32 * bestC), 32);
  if (scale > 0) {
    const id: f32 = 1 / scale;
    for (let k = 0; k < 4; k++) {
      const out = LBEST + (<usize>k << 3);
      snap(roundGroup(id, XVAL + (<usize>k << 5), out), k, scale, out);
    }
    sums(LBEST, 32);
    if (sumQ2 > 0) scale = sumQX / sumQ2;
  }
  if (scale < 0) {
    scale = -scale;
    for (let k = 0; k < 4; k++) store<u8>(SIGNS + k, <u8>(~load<u8>(SIGNS + k) & 127));
  }
  return scale;
}

export function quantizeIQ2_XXSImatrix(x: usize, y: usize, nrows: i32, nPerRow: i32, qw: usize): void {
  useLattice(256);
  const nbl = nPerRow >> 8;
  for (let r = 0; r < nrows; r++) {
    for (let ibl = 0; ibl < nbl; ibl++, x += 1024, y += 66) {
      memory.fill(Q2, 0, 64);
      let maxScale: f32 = 0;
      const sigma2: f32 = sumSquares256(x) / <f32>256;
      for (let ib = 0; ib < 8; ib++) {
        groupSetup(x + (<usize>ib << 7), qw + (<usize>(256 * ibl + 32 * ib) << 2), sigma2, 32, true);
        const scale = groupXXS();
        if (scale == SKIPPED) { store<f32>(SCALES + (<usize>ib << 2), 0); continue; }
        store<f32>(SCALES + (<usize>ib << 2), scale);
        let w0: u32 = 0, w1: u32 = 0;
        for (let k = 0; k < 4; k++) {
          w0 |= <u32>onLattice(LBEST + (<usize>k << 3)) << (8 * k);
          w1 |= <u32>load<u8>(SIGNS + k) << (7 * k);
        }
        store<u32>(Q2 + (<usize>ib << 3), w0);
        store<u32>(Q2 + (<usize>ib << 3), w1, 4);
        maxScale = maxScale > scale ? maxScale : scale;
      }
      if (maxScale == 0) {
        memory.fill(y, 0, 66);
        continue;
      }
      const d: f32 = maxScale / 31;
      store<u16>(y, <u16>fp32ToFp16(d));
      const id: f32 = 1 / d;
      for (let ib = 0; ib < 8; ib++) {
        const p = Q2 + (<usize>ib << 3) + 4;
        store<u32>(p, load<u32>(p) | (<u32>scaleCode(id, ldf(SCALES, ib)) << 28));
      }
      memory.copy(y + 2, Q2, 64);
    }
  }
}

/**
 * The 16-value group search shared by quantize_row_iq2_xs_impl and quantize_row_iq2_s_impl for a
 * group whose largest magnitude is max: codes in LBEST[0..16), returns the scale (before the sign flip).
 */
function group16(max: f32): f32 {
  // Upstream clears L first: if no candidate beats best = 0 the group keeps point 0, scale max/5.
  memory.fill(LBEST, 0, 16);
  prepareSums(16);
  let scale: f32 = max / TOP;
  // The 19 candidates' codes first (they do not depend on each other), then their sums 4 at a
  // time, then C's sequential choice over them.
  let offGrid: u64 = 0; // bit 2c + k: half k of candidate c was off the lattice
  for (let c = 0; c < 19; c++) {
    const id: f32 = (TOP + <f32>(c - 9) * <f32>0.1) / max;
    const thisScale: f32 = 1 / id;
    const out = CAND + <usize>(16 * c);
    const u0 = roundGroup(id, XVAL, out), u1 = roundGroup(id, XVAL + 32, out + 8);
    const g0 = load<i32>(map + (<usize>u0 << 2)), g1 = load<i32>(map + (<usize>u1 << 2));
    if (g0 < 0) { search(u0, g0, 0, thisScale, out); offGrid |= <u64>1 << <u64>(2 * c); }
    if (g1 < 0) { search(u1, g1, 1, thisScale, out + 8); offGrid |= <u64>2 << <u64>(2 * c); }
  }
  for (let c = 0; c < 19; c += 4) sums4(c, 16, 16); // lane 20 reads past the last candidate: ignored
  let best: f32 = 0, bestC = -1;
  for (let c = 0; c < 19; c++) {
    const sx = load<f32>(CAND_SX + (<usize>c << 2)), s2 = load<f32>(CAND_S2 + (<usize>c << 2));
    if (s2 > 0 && sx * sx > best * s2) { scale = sx / s2; best = scale * sx; bestC = c; }
  }
  let onGrid0 = true, onGrid1 = true;
  if (bestC >= 0) {
    v128.store(LBEST, v128.load(CAND + <usize>(16 * bestC)));
    onGrid0 = !(offGrid & (<u64>1 << <u64>(2 * bestC))); onGrid1 = !(offGrid & (<u64>2 << <u64>(2 * bestC)));
  }
  if ((!onGrid0 || !onGrid1) && scale > 0) {
    const id: f32 = 1 / scale;
    if (!onGrid0) snap(roundGroup(id, XVAL, LBEST), 0, scale, LBEST);
    if (!onGrid1) snap(roundGroup(id, XVAL + 32, LBEST + 8), 1, scale, LBEST + 8);
    sums(LBEST, 16);
    if (sumQ2 > 0) scale = sumQX / sumQ2;
  }
  return scale;
}

export function quantizeIQ2_XSImatrix(x: usize, y: usize, nrows: i32, nPerRow: i32, qw: usize): void {
  useLattice(512);
  const nbl = nPerRow >> 8;
  for (let r = 0; r < nrows; r++) {
    for (let ibl = 0; ibl < nbl; ibl++, x += 1024, y += 74) {
      // d | qs: u16[32] (9-bit point | 7 sign bits << 9) | scales[8]
      memory.fill(y + 2, 0, 72);
      let maxScale: f32 = 0;
      const sigma2: f32 = sumSquares256(x) / <f32>256;
      for (let ib = 0; ib < 16; ib++) {
        groupSetup(x + (<usize>ib << 6), qw + (<usize>(256 * ibl + 16 * ib) << 2), sigma2, 16, true);
        const max = maxOf(16);
        if (max < <f32>1e-15) { store<f32>(SCALES + (<usize>ib << 2), 0); continue; }
        let scale = group16(max);
        if (scale < 0) {
          scale = -scale;
          for (let k = 0; k < 2; k++) store<u8>(SIGNS + k, <u8>(~load<u8>(SIGNS + k) & 127));
        }
        for (let k = 0; k < 2; k++) {
          store<u16>(y + 2 + (<usize>(2 * ib + k) << 1), <u16>(onLattice(LBEST + (<usize>k << 3)) | (<i32>load<u8>(SIGNS + k) << 9)));
        }
        store<f32>(SCALES + (<usize>ib << 2), scale);
        maxScale = maxScale > scale ? maxScale : scale;
      }
      if (maxScale == 0) {
        memory.fill(y, 0, 74);
        continue;
      }
      const d: f32 = maxScale / 31;
      store<u16>(y, <u16>fp32ToFp16(d));
      const id: f32 = 1 / d;
      for (let ib = 0; ib < 16; ib += 2) {
        store<u8>(y + 66 + (ib >> 1), <u8>(scaleCode(id, ldf(SCALES, ib)) | (scaleCode(id, ldf(SCALES, ib + 1)) << 4)));
      }
    }
  }
}

/** quantize_row_iq2_s_impl over `nbl` blocks (qw: the weights of those blocks, or 0 for none). */
function rowIQ2_S(x: usize, y: usize, nbl: i32, qw: usize): void {
  for (let ibl = 0; ibl < nbl; ibl++, x += 1024, y += 82) {
    // d | qs[32] (low 8 bits of each point) | signs[32] | qh[8] (2 high bits each) | scales[8]
    memory.fill(y, 0, 82);
    let maxScale: f32 = 0;
    const sigma2: f32 = <f32>2 * sumSquares256(x) / <f32>256;
    for (let ib = 0; ib < 16; ib++) {
      groupSetup(x + (<usize>ib << 6), qw ? qw + (<usize>(256 * ibl + 16 * ib) << 2) : 0, sigma2, 16, false);
      const max = maxOf(16);
      if (max < <f32>1e-8) { store<f32>(SCALES + (<usize>ib << 2), 0); continue; }
      let scale = group16(max);
      if (scale < 0) {
        scale = -scale;
        for (let k = 0; k < 2; k++) store<u8>(SIGNS + k, ~load<u8>(SIGNS + k));
      }
      for (let k = 0; k < 2; k++) {
        const g = onLattice(LBEST + (<usize>k << 3));
        const i8 = 2 * ib + k;
        store<u8>(y + 2 + i8, <u8>g);
        const h = y + 66 + (i8 >> 2);
        store<u8>(h, load<u8>(h) | <u8>((g >> 8) << (2 * (i8 & 3))));
        store<u8>(y + 34 + i8, load<u8>(SIGNS + k));
      }
      store<f32>(SCALES + (<usize>ib << 2), scale);
      maxScale = maxScale > scale ? maxScale : scale;
    }
    if (maxScale == 0) continue;
    const d: f32 = maxScale / 31;
    store<u16>(y, <u16>fp32ToFp16(d * <f32>0.9875));
    const id: f32 = 1 / d;
    for (let ib = 0; ib < 16; ib += 2) {
      store<u8>(y + 74 + (ib >> 1), <u8>(scaleCode(id, ldf(SCALES, ib)) | (scaleCode(id, ldf(SCALES, ib + 1)) << 4)));
    }
  }
}

export function quantizeIQ2_SImatrix(x: usize, y: usize, nrows: i32, nPerRow: i32, qw: usize): void {
  useLattice(1024);
  const nbl = nPerRow >> 8;
  for (let r = 0; r < nrows; r++) rowIQ2_S(x + (<usize>(r * nPerRow) << 2), y + <usize>(r * nbl * 82), nbl, qw);
}

/** IQ2_S without an importance matrix (quantize_row_iq2_s_ref: weights 0.25·σ² + x²), whole blocks. */
export function quantizeIQ2_S(x: usize, y: usize, blocks: i32): void {
  useLattice(1024);
  rowIQ2_S(x, y, blocks, 0);
}
