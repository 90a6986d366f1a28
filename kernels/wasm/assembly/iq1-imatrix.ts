// IQ1_S and IQ1_M with an importance matrix: `quantize_row_iq1_s_impl` / `quantize_row_iq1_m_impl`
// (ggml-quants.c) as `quantize_iq1_s` / `quantize_iq1_m` run them, byte-identical to
// kernels/ref/iq1-quantize.ts (whose comments explain the algorithm and its exact rounding).
//
// What is done differently, and why it gives the same bytes:
// - The sort (glibc msort under iq1_sort_helper, a stable sort) becomes ranks: a value's place is
//   #{j: x_j < x_i} + #{j < i: x_j == x_i}, counted 4 values at a time. Without NaN that is the
//   only stable order; a NaN anywhere makes σ² and so every weight NaN, and no split is ever taken.
// - The split search runs 4 values of i2 per SIMD step, each lane the scalar C expression. Upstream
//   keeps the first candidate (in i1, i2, shift order) that passes `sumq2 > 0 && sumqx² > best·sumq2`
//   against the running best. A step tests only `sumqx² > best·sumq2` (a superset of passes); if no
//   lane passes, none could change the best. Otherwise the step is replayed in scalar with the full
//   test, in upstream's order, from the first lane that passed (the earlier ones failed against the
//   same best). Lanes past the last split see NaN prefix sums (padding), which pass nothing.
// - The neighbour search is iq1-neighbours.ts.
//
// Exports take whole rows: (x, y, nrows, nPerRow, qw), qw the row's nPerRow importance weights.
// Where upstream aborts (GGML_ASSERT) we abort.
import { fp32ToFp16, nearestInt } from './numeric';
import { iq1Prepare, iq1Entry, iq1BestNeighbour, iq1Code } from './iq1-neighbours';

const FLT_MAX: f32 = 3.4028234663852886e38;
/** The shifted code values: x_p for a +delta (sub-)group, x_m for −delta. */
const XP = memory.data<f32>([-0.875, 0.125, 1.125, 0], 16);
const XM = memory.data<f32>([-1.125, -0.125, 0.875, 0], 16);
const P0: f32 = -0.875, P1: f32 = 0.125, P2: f32 = 1.125;
const M0: f32 = -1.125, M2: f32 = 0.875;

const W = memory.data(256 * 4, 16); // the super-block's weights qw·sqrtf(σ² + x²)
const WX = memory.data(256 * 4, 16); // …and weight·x
const RANK = memory.data(32 * 4, 16);
const PERM = memory.data(32 * 4, 16);
const L = memory.data(32 * 4, 16);
const SCALES = memory.data(16 * 4, 16);
const SHIFTS = memory.data(16 * 4, 16);
const INDEX = memory.data(4 * 4, 16);
const LANES = memory.data(8 * 16, 16);
// IQ1_S prefix sums over the sorted values and the i2-only terms (4-lane reads past entry 32 see NaN).
const SX = memory.data(40 * 4, 16);
const SW = memory.data(40 * 4, 16);
const CP = memory.data(40 * 4, 16);
const CM = memory.data(40 * 4, 16);
const QCP = memory.data(40 * 4, 16);
const QCM = memory.data(40 * 4, 16);
// IQ1_M: per 8-value half h, prefix sums (NaN past entry 16) and pw·cp2 / pw·cm2 by i2.
const PX = memory.data(2 * 24 * 4, 16);
const PW = memory.data(2 * 24 * 4, 16);
const W2P = memory.data(2 * 24 * 4, 16);
const W2M = memory.data(2 * 24 * 4, 16);
/** Lane l > k set, for the ranks inside a quad. */
const AFTER = memory.data<i32>([0, -1, -1, -1, 0, 0, -1, -1, 0, 0, 0, -1, 0, 0, 0, 0], 16);
const POW3 = memory.data<i32>([1, 3, 9, 27, 81, 243, 729, 2187], 16);

// @ts-ignore: decorator
@inline function f(p: usize, i: i32): f32 { return load<f32>(p + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function setf(p: usize, i: i32, v: f32): void { store<f32>(p + (<usize>i << 2), v); }
// @ts-ignore: decorator
@inline function geti(p: usize, i: i32): i32 { return load<i32>(p + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function seti(p: usize, i: i32, v: i32): void { store<i32>(p + (<usize>i << 2), v); }
// @ts-ignore: decorator
@inline function at(p: usize, i: i32): v128 { return v128.load(p + (<usize>i << 2)); }

/** σ² = 2·Σx²/256 (C order), then W and WX for the 256 values at xbl with importances qw. */
function superBlockWeights(xbl: usize, qw: usize): void {
  let s: f32 = 0;
  for (let i = 0; i < 256; i++) { const v = f(xbl, i); s += v * v; }
  const sigma2 = f32x4.splat(<f32>2 * s / <f32>256);
  for (let i = 0; i < 256; i += 4) {
    const v = at(xbl, i);
    const w = f32x4.mul(at(qw, i), f32x4.sqrt(f32x4.add(sigma2, f32x4.mul(v, v))));
    v128.store(W + (<usize>i << 2), w);
    v128.store(WX + (<usize>i << 2), f32x4.mul(w, v));
  }
}

/** max |x| over n values (only compared with a threshold; NaN rows never take a split anyway). */
function absMax(xb: usize, n: i32): f32 {
  let m = f32x4.abs(at(xb, 0));
  for (let i = 4; i < n; i += 4) m = f32x4.max(m, f32x4.abs(at(xb, i)));
  m = f32x4.max(m, i32x4.shuffle(m, m, 2, 3, 0, 1));
  m = f32x4.max(m, i32x4.shuffle(m, m, 1, 0, 3, 2));
  return f32x4.extract_lane(m, 0);
}

/** RANK[i] = the stable sorted place of x_i among the n values at xb; PERM its inverse. */
function sortRanks(xb: usize, n: i32): void {
  for (let q = 0; q < n; q += 4) {
    const xi = at(xb, q);
    let cnt = i32x4.splat(0);
    for (let j = 0; j < q; j++) cnt = i32x4.add(cnt, f32x4.le(v128.load32_splat(xb + (<usize>j << 2)), xi));
    for (let k = 0; k < 4; k++) {
      const s = v128.load32_splat(xb + (<usize>(q + k) << 2));
      cnt = i32x4.add(cnt, v128.bitselect(f32x4.le(s, xi), f32x4.lt(s, xi), at(AFTER, 4 * k)));
    }
    for (let j = q + 4; j < n; j++) cnt = i32x4.add(cnt, f32x4.lt(v128.load32_splat(xb + (<usize>j << 2)), xi));
    v128.store(RANK + (<usize>q << 2), i32x4.neg(cnt));
  }
  // With a NaN the ranks are no permutation; start from the identity so PERM stays in range.
  for (let j = 0; j < n; j++) seti(PERM, j, j);
  for (let i = 0; i < n; i++) seti(PERM, geti(RANK, i) & 31, i);
}

/** L[i] from the split: code 0 below rank i1, 1 below i2, else 2. */
function codesFromSplit(n: i32, i1: i32, i2: i32): void {
  for (let i = 0; i < n; i++) { const r = geti(RANK, i); seti(L, i, r < i1 ? 0 : r < i2 ? 1 : 2); }
}

/** The base-3 number of group k's 8 codes in L. */
// @ts-ignore: decorator
@inline function tuple(k: i32): i32 {
  let t = 0;
  for (let j = 0; j < 8; j++) t += geti(L, 8 * k + j) * geti(POW3, j);
  return t;
}

/** Group k's lattice point: its codes' own point or the best neighbour. Returns −1 − point if off the lattice. */
function groupPoint(k: i32, xb: usize, wb: usize, scale: f32, xx: usize, xEnd: usize): i32 {
  const e = iq1Entry(tuple(k));
  if (e >= 0) return e;
  return -1 - iq1BestNeighbour(e, xx, xb + (<usize>(8 * k) << 2), wb + (<usize>(8 * k) << 2), scale, xEnd);
}

let accQx: f32 = 0;
let accQ2: f32 = 0;

/** accQx += Σ w·q·x, accQ2 += Σ w·q·q over group k (q = xx[code]·mul when mul != 1). */
function accumulate(k: i32, g: i32, xb: usize, wb: usize, xx: usize, mul: f32, scaled: bool): void {
  let sqx = accQx, sq2 = accQ2;
  for (let j = 0; j < 8; j++) {
    const w = f(wb, 8 * k + j);
    let q = f(xx, iq1Code(g, j));
    if (scaled) q = q * mul;
    sqx += w * q * f(xb, 8 * k + j);
    sq2 += w * q * q;
  }
  accQx = sqx; accQ2 = sq2;
}

// ---------------------------------------------------------------- IQ1_S

let bestScore: f32 = 0;
let bestScale: f32 = 0;
let besti1 = 0;
let besti2 = 0;
let bestShift = 0;

/** The scalar test of one candidate (upstream's `if`), in upstream's order. */
// @ts-ignore: decorator
@inline function consider(sqx: f32, sq2: f32, i1: i32, i2: i32, shift: i32): void {
  if (sq2 > 0 && sqx * sqx > bestScore * sq2) {
    bestScale = sqx / sq2; bestScore = bestScale * sqx;
    besti1 = i1; besti2 = i2; bestShift = shift;
  }
}

/** The (i1, i2, ±) search of one 32-value sub-block over SX/SW. */
function searchS(): void {
  const sxAll = f(SX, 32), swAll = f(SW, 32);
  const p1 = f32x4.splat(P1), p2 = f32x4.splat(P2), m2 = f32x4.splat(M2);
  for (let i = 0; i < 36; i += 4) {
    const c = f32x4.sub(f32x4.splat(sxAll), at(SX, i)), wc = f32x4.sub(f32x4.splat(swAll), at(SW, i));
    v128.store(CP + (<usize>i << 2), f32x4.mul(c, p2));
    v128.store(CM + (<usize>i << 2), f32x4.mul(c, m2));
    v128.store(QCP + (<usize>i << 2), f32x4.mul(f32x4.mul(wc, p2), p2));
    v128.store(QCM + (<usize>i << 2), f32x4.mul(f32x4.mul(wc, m2), m2));
  }
  for (let i1 = 0; i1 <= 32; i1++) {
    const a: f32 = f(SX, i1) - f(SX, 0), wa: f32 = f(SW, i1) - f(SW, 0);
    const aP = f32x4.splat(a * P0), aM = f32x4.splat(a * M0);
    const qaP = f32x4.splat(wa * P0 * P0), qaM = f32x4.splat(wa * M0 * M0);
    const sx1 = f32x4.splat(f(SX, i1)), sw1 = f32x4.splat(f(SW, i1));
    for (let i2 = i1; i2 <= 32; i2 += 4) {
      const bP = f32x4.mul(f32x4.sub(at(SX, i2), sx1), p1);
      const wb = f32x4.sub(at(SW, i2), sw1);
      const qb = f32x4.mul(f32x4.mul(wb, p1), p1);
      const qxP = f32x4.add(f32x4.add(aP, bP), at(CP, i2));
      const q2P = f32x4.add(f32x4.add(qaP, qb), at(QCP, i2));
      const qxM = f32x4.add(f32x4.sub(aM, bP), at(CM, i2));
      const q2M = f32x4.add(f32x4.add(qaM, qb), at(QCM, i2));
      const best = f32x4.splat(bestScore);
      const pass = i32x4.bitmask(v128.or(f32x4.gt(f32x4.mul(qxP, qxP), f32x4.mul(best, q2P)), f32x4.gt(f32x4.mul(qxM, qxM), f32x4.mul(best, q2M))));
      if (!pass) continue;
      v128.store(LANES, qxP); v128.store(LANES, q2P, 16); v128.store(LANES, qxM, 32); v128.store(LANES, q2M, 48);
      const n = 33 - i2 < 4 ? 33 - i2 : 4;
      for (let l = ctz(pass); l < n; l++) {
        consider(f(LANES, l), f(LANES, 4 + l), i1, i2 + l, 1);
        consider(f(LANES, 8 + l), f(LANES, 12 + l), i1, i2 + l, -1);
      }
    }
  }
}

/** One IQ1_S super-block (50 bytes at y: d | qs[32] | qh u16[8]). */
function blockS(xbl: usize, qw: usize, y: usize, xEnd: usize): void {
  memory.fill(y, 0, 50);
  superBlockWeights(xbl, qw);
  let maxScale: f32 = 0;
  for (let ib = 0; ib < 8; ib++) {
    const xb = xbl + (<usize>ib << 7), wb = W + (<usize>ib << 7), wxb = WX + (<usize>ib << 7);
    setf(SCALES, ib, 0); seti(SHIFTS, ib, 1);
    if (absMax(xb, 32) < <f32>1e-12) continue;
    sortRanks(xb, 32);
    let sx: f32 = 0, sw: f32 = 0;
    setf(SX, 0, 0); setf(SW, 0, 0);
    for (let j = 0; j < 32; j++) {
      const i = geti(PERM, j);
      sx += f(wxb, i); sw += f(wb, i);
      setf(SX, j + 1, sx); setf(SW, j + 1, sw);
    }
    bestScore = -FLT_MAX; bestScale = 0; besti1 = -1; besti2 = -1; bestShift = 0;
    searchS();
    if (besti1 < 0 || besti2 < 0 || bestShift == 0) continue;
    let scale = bestScale, shift = bestShift;
    codesFromSplit(32, besti1, besti2);
    if (scale < 0) {
      for (let j = 0; j < 32; j++) seti(L, j, 2 - geti(L, j));
      scale = -scale; shift = -shift;
    }
    const xx = shift == 1 ? XP : XM;
    let allOnGrid = true;
    for (let k = 0; k < 4; k++) {
      let g = groupPoint(k, xb, wb, scale, xx, xEnd);
      if (g < 0) { allOnGrid = false; g = -1 - g; }
      seti(INDEX, k, g);
    }
    if (!allOnGrid) {
      accQx = 0; accQ2 = 0;
      for (let k = 0; k < 4; k++) accumulate(k, geti(INDEX, k), xb, wb, xx, 1, false);
      if (accQx > 0 && accQ2 > 0) scale = accQx / accQ2;
    }
    let h = 0;
    for (let k = 0; k < 4; k++) {
      const g = geti(INDEX, k);
      store<u8>(y + 2 + (<usize>(4 * ib + k)), <u8>(g & 255));
      h |= (g >> 8) << (3 * k);
    }
    store<u16>(y + 34 + (<usize>ib << 1), <u16>h);
    if (!(scale >= 0)) abort('GGML_ASSERT(scale >= 0) failed in quantize_row_iq1_s_impl');
    setf(SCALES, ib, scale);
    seti(SHIFTS, ib, shift);
    maxScale = maxScale > scale ? maxScale : scale;
  }
  if (maxScale == 0) return;
  const d: f32 = maxScale / 15;
  store<u16>(y, <u16>fp32ToFp16(d * <f32>1.125));
  const id: f32 = 1 / d;
  for (let ib = 0; ib < 8; ib++) {
    let l = nearestInt(<f32>0.5 * (id * f(SCALES, ib) - 1));
    l = l < 0 ? 0 : l > 7 ? 7 : l;
    if (geti(SHIFTS, ib) == -1) l |= 8;
    const p = y + 34 + (<usize>ib << 1);
    store<u16>(p, load<u16>(p) | <u16>(l << 12));
  }
}

export function quantizeIQ1_SImatrix(x: usize, y: usize, nrows: i32, nPerRow: i32, qw: usize): void {
  iq1Prepare();
  for (let i = 33; i < 40; i++) { setf(SX, i, NaN); setf(SW, i, NaN); }
  const nb = nPerRow >> 8;
  const xEnd = x + ((<usize>nrows * <usize>nPerRow) << 2);
  for (let r = 0; r < nrows; r++) {
    for (let i = 0; i < nb; i++, x += 1024, y += 50) blockS(x, qw + (<usize>i << 10), y, xEnd);
  }
}

// ---------------------------------------------------------------- IQ1_M

/** The (i1, i2, sign pair) search of one 16-value sub-block over PX/PW (upstream's prefix-sum form). */
function searchM(): void {
  const CP1: f32 = P0 * P0 - P1 * P1, CP2: f32 = P1 * P1 - P2 * P2;
  const CM1: f32 = M0 * M0 - P1 * P1, CM2: f32 = P1 * P1 - M2 * M2;
  const cp2 = f32x4.splat(CP2), cm2 = f32x4.splat(CM2);
  for (let h = 0; h < 2; h++) {
    const pw = PW + (<usize>(24 * h) << 2);
    for (let i = 0; i < 20; i += 4) {
      v128.store(W2P + (<usize>(24 * h + i) << 2), f32x4.mul(at(pw, i), cp2));
      v128.store(W2M + (<usize>(24 * h + i) << 2), f32x4.mul(at(pw, i), cm2));
    }
  }
  const px0 = PX, px1 = PX + 96, pw0 = PW, pw1 = PW + 96;
  const w2p0 = W2P, w2p1 = W2P + 96, w2m0 = W2M, w2m1 = W2M + 96;
  const txP0 = f32x4.splat(f(px0, 16) * P2), txM0 = f32x4.splat(f(px0, 16) * M2);
  const txP1 = f32x4.splat(f(px1, 16) * P2), txM1 = f32x4.splat(f(px1, 16) * M2);
  const twP0: f32 = f(pw0, 16) * P2 * P2, twM0: f32 = f(pw0, 16) * M2 * M2;
  const twP1: f32 = f(pw1, 16) * P2 * P2, twM1: f32 = f(pw1, 16) * M2 * M2;
  for (let i1 = 0; i1 <= 16; i1++) {
    const a0P = f32x4.splat(twP0 + f(pw0, i1) * CP1), a0M = f32x4.splat(twM0 + f(pw0, i1) * CM1);
    const a1P = f32x4.splat(twP1 + f(pw1, i1) * CP1), a1M = f32x4.splat(twM1 + f(pw1, i1) * CM1);
    const s0 = f32x4.splat(f(px0, i1)), s1 = f32x4.splat(f(px1, i1));
    for (let i2 = i1; i2 <= 16; i2 += 4) {
      const sx0 = f32x4.add(s0, at(px0, i2)), sx1 = f32x4.add(s1, at(px1, i2));
      const qxP0 = f32x4.sub(txP0, sx0), qxM0 = f32x4.sub(txM0, sx0);
      const qxP1 = f32x4.sub(txP1, sx1), qxM1 = f32x4.sub(txM1, sx1);
      const q2P0 = f32x4.add(a0P, at(w2p0, i2)), q2M0 = f32x4.add(a0M, at(w2m0, i2));
      const q2P1 = f32x4.add(a1P, at(w2p1, i2)), q2M1 = f32x4.add(a1M, at(w2m1, i2));
      const x0 = f32x4.add(qxP0, qxP1), x1 = f32x4.add(qxP0, qxM1), x2 = f32x4.add(qxM0, qxP1), x3 = f32x4.add(qxM0, qxM1);
      const t0 = f32x4.add(q2P0, q2P1), t1 = f32x4.add(q2P0, q2M1), t2 = f32x4.add(q2M0, q2P1), t3 = f32x4.add(q2M0, q2M1);
      const best = f32x4.splat(bestScore);
      const p0 = f32x4.gt(f32x4.mul(x0, x0), f32x4.mul(best, t0)), p1 = f32x4.gt(f32x4.mul(x1, x1), f32x4.mul(best, t1));
      const p2 = f32x4.gt(f32x4.mul(x2, x2), f32x4.mul(best, t2)), p3 = f32x4.gt(f32x4.mul(x3, x3), f32x4.mul(best, t3));
      const pass = i32x4.bitmask(v128.or(v128.or(p0, p1), v128.or(p2, p3)));
      if (!pass) continue;
      v128.store(LANES, x0); v128.store(LANES, x1, 16); v128.store(LANES, x2, 32); v128.store(LANES, x3, 48);
      v128.store(LANES, t0, 64); v128.store(LANES, t1, 80); v128.store(LANES, t2, 96); v128.store(LANES, t3, 112);
      const n = 17 - i2 < 4 ? 17 - i2 : 4;
      for (let l = ctz(pass); l < n; l++) {
        for (let k = 0; k < 4; k++) consider(f(LANES, 4 * k + l), f(LANES, 16 + 4 * k + l), i1, i2 + l, k);
      }
    }
  }
}

/** The shifted code values of group k (0 or 1) of a sub-block with sign pair bk. */
// @ts-ignore: decorator
@inline function groupValues(bk: i32, k: i32): usize {
  return k == 0 ? (bk < 2 ? XP : XM) : (bk % 2 == 0 ? XP : XM);
}

/** One IQ1_M super-block (56 bytes at y: qs[32] | qh[16] | scales u16[4]). */
function blockM(xbl: usize, qw: usize, y: usize, xEnd: usize): void {
  const qh = y + 32, sc = y + 48;
  memory.fill(y, 0, 56);
  superBlockWeights(xbl, qw);
  let maxScale: f32 = 0;
  for (let ib = 0; ib < 16; ib++) {
    const xb = xbl + (<usize>ib << 6), wb = W + (<usize>ib << 6), wxb = WX + (<usize>ib << 6);
    setf(SCALES, ib, 0); seti(SHIFTS, ib, 0);
    if (absMax(xb, 16) < <f32>1e-7) continue;
    sortRanks(xb, 16);
    let x0: f32 = 0, x1: f32 = 0, w0: f32 = 0, w1: f32 = 0;
    setf(PX, 0, 0); setf(PX, 24, 0); setf(PW, 0, 0); setf(PW, 24, 0);
    for (let j = 0; j < 16; j++) {
      const i = geti(PERM, j);
      if (i < 8) { x0 += f(wxb, i); w0 += f(wb, i); } else { x1 += f(wxb, i); w1 += f(wb, i); }
      setf(PX, j + 1, x0); setf(PX, 25 + j, x1); setf(PW, j + 1, w0); setf(PW, 25 + j, w1);
    }
    bestScore = -FLT_MAX; bestScale = 0; besti1 = -1; besti2 = -1; bestShift = -1;
    searchM();
    if (besti1 < 0 || besti2 < 0 || bestShift < 0) continue;
    let scale = bestScale, bk = bestShift;
    codesFromSplit(16, besti1, besti2);
    if (scale < 0) {
      for (let j = 0; j < 16; j++) seti(L, j, 2 - geti(L, j));
      scale = -scale; bk = 3 - bk;
    }
    let allOnGrid = true;
    for (let k = 0; k < 2; k++) {
      let g = groupPoint(k, xb, wb, scale, groupValues(bk, k), xEnd);
      if (g < 0) { allOnGrid = false; g = -1 - g; }
      seti(INDEX, k, g);
    }
    if (!allOnGrid) {
      accQx = 0; accQ2 = 0;
      for (let k = 0; k < 2; k++) accumulate(k, geti(INDEX, k), xb, wb, groupValues(bk, k), 1, false);
      if (accQx > 0 && accQ2 > 0) scale = accQx / accQ2;
    }
    const g0 = geti(INDEX, 0), g1 = geti(INDEX, 1);
    store<u8>(y + (<usize>(2 * ib)), <u8>(g0 & 255));
    store<u8>(y + (<usize>(2 * ib + 1)), <u8>(g1 & 255));
    store<u8>(qh + <usize>ib, <u8>((g0 >> 8) | ((g1 >> 8) << 4)));
    if (!(scale >= 0)) abort('GGML_ASSERT(scale >= 0) failed in quantize_row_iq1_m_impl');
    setf(SCALES, ib, scale);
    seti(SHIFTS, ib, bk);
    maxScale = maxScale > scale ? maxScale : scale;
  }
  if (maxScale == 0) return;
  let d: f32 = maxScale / 15;
  const id: f32 = 1 / d;
  accQx = 0; accQ2 = 0;
  for (let ib = 0; ib < 16; ib++) {
    let l = nearestInt(<f32>0.5 * (id * f(SCALES, ib) - 1));
    l = l < 0 ? 0 : l > 7 ? 7 : l;
    const s = sc + (<usize>(ib >> 2) << 1);
    store<u16>(s, load<u16>(s) | <u16>(l << (3 * (ib % 4))));
    const sh = geti(SHIFTS, ib);
    const hb = <i32>load<u8>(qh + <usize>ib) | (sh == 0 ? 0 : sh == 1 ? 0x80 : sh == 2 ? 0x08 : 0x88);
    store<u8>(qh + <usize>ib, <u8>hb);
    const xb = xbl + (<usize>ib << 6), wb = W + (<usize>ib << 6);
    const mul = <f32>(<i32>(2 * l + 1));
    for (let k = 0; k < 2; k++) {
      const g = <i32>load<u8>(y + (<usize>(2 * ib + k))) + ((hb << (8 - 4 * k)) & 0x700);
      accumulate(k, g, xb, wb, groupValues(sh, k), mul, true);
    }
  }
  if (accQ2 > 0) d = accQx / accQ2;
  const h = <u16>fp32ToFp16(d * <f32>1.1125);
  store<u16>(sc, load<u16>(sc) | ((h & 0x000f) << 12));
  store<u16>(sc + 2, load<u16>(sc + 2) | ((h & 0x00f0) << 8));
  store<u16>(sc + 4, load<u16>(sc + 4) | ((h & 0x0f00) << 4));
  store<u16>(sc + 6, load<u16>(sc + 6) | (h & 0xf000));
}

export function quantizeIQ1_MImatrix(x: usize, y: usize, nrows: i32, nPerRow: i32, qw: usize): void {
  iq1Prepare();
  for (let i = 17; i < 24; i++) { setf(PX, i, NaN); setf(PX, 24 + i, NaN); setf(PW, i, NaN); setf(PW, 24 + i, NaN); }
  const nb = nPerRow >> 8;
  const xEnd = x + ((<usize>nrows * <usize>nPerRow) << 2);
  for (let r = 0; r < nrows; r++) {
    for (let i = 0; i < nb; i++, x += 1024, y += 56) blockM(x, qw + (<usize>i << 10), y, xEnd);
  }
}
