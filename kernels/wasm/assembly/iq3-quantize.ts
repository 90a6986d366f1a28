// IQ3_XXS and IQ3_S quantizers: `quantize_row_iq3_xxs_impl(256, …)` and
// `quantize_row_iq3_s_impl(32, …)` (ggml-quants.c) as `quantize_iq3_xxs` / `quantize_iq3_s` run
// them, with importance weights or (NULL imatrix) x² weights; byte-identical to
// kernels/ref/iq3-quantize.ts, which documents the algorithm.
//
// Where the time goes upstream: per 32-value sub-block, 31 (IQ3_XXS) or 19 (IQ3_S) candidate
// scales, each rounding 32 values, looking up 8 code tuples and searching the grid neighbours of
// the off-grid ones. A candidate's codes and sums do not depend on the earlier candidates (only
// the keep-the-best decision does), so four candidates run side by side, one per SIMD lane, each
// lane the C sequence of its candidate; the decisions are then taken in C order. The neighbour
// search (`iq3_find_best_neighbour`) runs four grid points per step over the chunked lists of
// iq3-init.ts and keeps C's winner: the first of the smallest distances.
//
// Upstream aborts (GGML_ASSERT: no neighbour wins, a NaN scale) become wasm aborts naming the
// assert; the JS reference throws on the same rows.
import { nearestInt, fp32ToFp16 } from './numeric';
import { nearest4, clamp4 } from './simd';
import { iq3Init, GRID_256, GRID_512, MAP_256, MAP_512, CH_256, CH_512, CHUNK_BYTES } from './iq3-init';

const FLT_MAX: f32 = 3.4028234663852886e38;

// Per-sub-block scratch (C's stack arrays).
const XV = memory.data(32 * 4, 16); // xval
const W = memory.data(32 * 4, 16); // weight
const WA = memory.data(32 * 4, 16); // waux = sqrtf(weight)
const WX = memory.data(32 * 4, 16); // weight·xval, the first product of C's sumqx term
const QT = memory.data(32 * 16, 16); // per value: q = 2L+1 of the 4 candidates in flight
const UG = memory.data(8 * 16, 16); // per group: the 4 candidates' tuple codes
const SV = memory.data(16, 16); // the 4 candidates' scales (this_scale)
const SUMS = memory.data(32, 16); // their sumqx, then sumq2
const GIC = memory.data(4 * 8 * 4, 16); // per candidate, per group: grid index of its codes
const OGC = memory.data(4 * 8, 16); // per candidate, per group: is_on_grid_aux
const BGI = memory.data(8 * 4, 16); // C's L, as the grid index of each group's codes
const BOG = memory.data(8, 16); // C's is_on_grid
const SCALES = memory.data(8 * 4, 16);
const SIGNS = memory.data(4 * 4, 16); // block_signs

// The tables of the grid size in use (set by each export).
let GRID: usize = 0, MAP: usize = 0, CH: usize = 0;

// @ts-ignore: decorator
@inline function ld(p: usize, i: i32): f32 { return load<f32>(p + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function st(p: usize, i: i32, v: f32): void { store<f32>(p + (<usize>i << 2), v); }

// @ts-ignore: decorator
@inline function hminF(v: v128): f32 {
  const a = f32x4.min(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(f32x4.min(a, v128.shuffle<f32>(a, a, 1, 0, 3, 2)), 0);
}

// @ts-ignore: decorator
@inline function hminI(v: v128): i32 {
  const a = i32x4.min_s(v, v128.shuffle<i32>(v, v, 2, 3, 0, 1));
  return i32x4.extract_lane(i32x4.min_s(a, v128.shuffle<i32>(a, a, 1, 0, 3, 2)), 0);
}

/** Σ waux·(s·q − x)² in C order for the 4 grid points of chunk p (lanes), group values x, weights w. */
// @ts-ignore: decorator
@inline function dist4(p: usize, sv: v128, x0: v128, x1: v128, x2: v128, x3: v128, w0: v128, w1: v128, w2: v128, w3: v128): v128 {
  let d = f32x4.splat(0);
  let diff = f32x4.sub(f32x4.mul(sv, v128.load(p)), x0);
  d = f32x4.add(d, f32x4.mul(f32x4.mul(w0, diff), diff));
  diff = f32x4.sub(f32x4.mul(sv, v128.load(p, 16)), x1);
  d = f32x4.add(d, f32x4.mul(f32x4.mul(w1, diff), diff));
  diff = f32x4.sub(f32x4.mul(sv, v128.load(p, 32)), x2);
  d = f32x4.add(d, f32x4.mul(f32x4.mul(w2, diff), diff));
  diff = f32x4.sub(f32x4.mul(sv, v128.load(p, 48)), x3);
  return f32x4.add(d, f32x4.mul(f32x4.mul(w3, diff), diff));
}

/**
 * `iq3_find_best_neighbour` at scale s (splat in sv) for a group's values x0..x3 and weights
 * w0..w3 (splats), over the list MAP gave as m < 0: the grid index of the first candidate with the
 * least distance below FLT_MAX (NaN distances never win). Per lane the running first minimum, then
 * across lanes the least distance at the earliest list position: the same point as C's sequential
 * strict `<`.
 */
// @ts-ignore: decorator
@inline function neighbour(m: i32, sv: v128, x0: v128, x1: v128, x2: v128, x3: v128, w0: v128, w1: v128, w2: v128, w3: v128): i32 {
  const code = -m - 1;
  const start = CH + <usize>(code >> 6) * CHUNK_BYTES;
  const nch = code & 63;
  const fmax = f32x4.splat(FLT_MAX);
  if (nch == 1) {
    const d = dist4(start, sv, x0, x1, x2, x3, w0, w1, w2, w3);
    const valid = f32x4.lt(d, fmax);
    const dm = v128.bitselect(d, fmax, valid);
    const mask = i32x4.bitmask(v128.and(valid, f32x4.eq(dm, f32x4.splat(hminF(dm)))));
    if (mask == 0) abort('GGML_ASSERT(grid_index >= 0) failed in iq3_find_best_neighbour');
    return load<i32>(start + 64 + (<usize>ctz(mask) << 2));
  }
  let best = fmax, at = i32x4.splat(0);
  let p = start;
  for (let c = 0; c < nch; c++, p += CHUNK_BYTES) {
    const d = dist4(p, sv, x0, x1, x2, x3, w0, w1, w2, w3);
    const lt = f32x4.lt(d, best);
    best = v128.bitselect(d, best, lt);
    at = v128.bitselect(i32x4.splat(c), at, lt);
  }
  const mask = v128.and(f32x4.lt(best, fmax), f32x4.eq(best, f32x4.splat(hminF(best))));
  if (!v128.any_true(mask)) abort('GGML_ASSERT(grid_index >= 0) failed in iq3_find_best_neighbour');
  const pos = v128.bitselect(i32x4.add(i32x4.shl(at, 2), i32x4(0, 1, 2, 3)), i32x4.splat(0x7fffffff), mask);
  const k = hminI(pos);
  return load<i32>(start + <usize>(k >> 2) * CHUNK_BYTES + 64 + (<usize>(k & 3) << 2));
}

/** `neighbour` for group g (values XV[4g..], weights WA[4g..]) at scale s. */
function bestNeighbour(m: i32, g: i32, s: f32): i32 {
  const o = <usize>g << 4;
  return neighbour(m, f32x4.splat(s),
    v128.load32_splat(XV + o), v128.load32_splat(XV + o, 4), v128.load32_splat(XV + o, 8), v128.load32_splat(XV + o, 12),
    v128.load32_splat(WA + o), v128.load32_splat(WA + o, 4), v128.load32_splat(WA + o, 8), v128.load32_splat(WA + o, 12));
}

/** Group k's tuple code at scale inverse id, C's `u |= MAX(0, MIN(7, nearest_int(0.5f*(id*x − 1)))) << 3i`. */
// @ts-ignore: decorator
@inline function tuple(id: f32, k: i32): i32 {
  let u = 0;
  for (let i = 0; i < 4; i++) {
    let l = nearestInt(<f32>0.5 * (id * ld(XV, 4 * k + i) - <f32>1));
    l = 7 < l ? 7 : l;
    l = 0 > l ? 0 : l;
    u |= l << (3 * i);
  }
  return u;
}

/**
 * The scale search of one sub-block (XV, W, WA, WX filled): returns the scale, C's L in BGI (as
 * grid indexes; every L the C code keeps is a grid point, so its "not on grid" abort cannot fire).
 * nstep 15 (IQ3_XXS: groups start "on grid", the re-pick skips those) or 9 (IQ3_S: start "off",
 * re-pick all).
 */
function searchSubBlock(max: f32, nstep: i32, xxs: bool): f32 {
  let best: f32 = 0;
  let scale: f32 = max / <f32>15;
  const g0 = load<i32>(MAP); // L = 0 (memset): tuple 0, a grid point of both grids
  for (let k = 0; k < 8; k++) { store<i32>(BGI + (<usize>k << 2), g0); store<u8>(BOG + k, xxs ? 1 : 0); }
  const ncand = 2 * nstep + 1;
  const half = f32x4.splat(0.5), one = f32x4.splat(1);
  for (let c0 = 0; c0 < ncand; c0 += 4) {
    const isv = f32x4.convert_i32x4_s(i32x4.add(i32x4.splat(c0 - nstep), i32x4(0, 1, 2, 3)));
    const idv = f32x4.div(f32x4.add(f32x4.splat(15), f32x4.mul(isv, f32x4.splat(<f32>0.2))), f32x4.splat(max));
    v128.store(SV, f32x4.div(one, idv));
    for (let k = 0; k < 8; k++) {
      let u = i32x4.splat(0);
      for (let i = 0; i < 4; i++) {
        const j = 4 * k + i;
        const l = clamp4(nearest4(f32x4.mul(half, f32x4.sub(f32x4.mul(idv, v128.load32_splat(XV + (<usize>j << 2))), one))), 0, 7);
        v128.store(QT + (<usize>j << 4), f32x4.convert_i32x4_s(i32x4.add(i32x4.shl(l, 1), i32x4.splat(1))));
        u = v128.or(u, i32x4.shl(l, 3 * i));
      }
      v128.store(UG + (<usize>k << 4), u);
    }
    const lanes = ncand - c0 < 4 ? ncand - c0 : 4;
    for (let k = 0; k < 8; k++) {
      const o = <usize>k << 4;
      const x0 = v128.load32_splat(XV + o), x1 = v128.load32_splat(XV + o, 4), x2 = v128.load32_splat(XV + o, 8), x3 = v128.load32_splat(XV + o, 12);
      const w0 = v128.load32_splat(WA + o), w1 = v128.load32_splat(WA + o, 4), w2 = v128.load32_splat(WA + o, 8), w3 = v128.load32_splat(WA + o, 12);
      for (let c = 0; c < lanes; c++) {
        const u = load<i32>(UG + (<usize>k << 4) + (<usize>c << 2));
        let gi = load<i32>(MAP + (<usize>u << 2));
        let on: u8 = 1;
        if (gi < 0) {
          on = 0;
          gi = neighbour(gi, v128.load32_splat(SV + (<usize>c << 2)), x0, x1, x2, x3, w0, w1, w2, w3);
          const g = GRID + (<usize>gi << 4);
          const q = QT + (<usize>k << 6) + (<usize>c << 2);
          store<f32>(q, load<f32>(g)); store<f32>(q, load<f32>(g, 4), 16);
          store<f32>(q, load<f32>(g, 8), 32); store<f32>(q, load<f32>(g, 12), 48);
        }
        store<i32>(GIC + (<usize>(8 * c + k) << 2), gi);
        store<u8>(OGC + <usize>(8 * c + k), on);
      }
    }
    let sqx = f32x4.splat(0), sq2 = f32x4.splat(0);
    for (let j = 0; j < 32; j++) {
      const q = v128.load(QT + (<usize>j << 4));
      sqx = f32x4.add(sqx, f32x4.mul(v128.load32_splat(WX + (<usize>j << 2)), q));
      sq2 = f32x4.add(sq2, f32x4.mul(f32x4.mul(v128.load32_splat(W + (<usize>j << 2)), q), q));
    }
    v128.store(SUMS, sqx);
    v128.store(SUMS, sq2, 16);
    for (let c = 0; c < lanes; c++) {
      const sumqx = ld(SUMS, c), sumq2 = ld(SUMS, 4 + c);
      if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
        scale = sumqx / sumq2;
        best = scale * sumqx;
        memory.copy(BGI, GIC + (<usize>c << 5), 32);
        memory.copy(BOG, OGC + (<usize>c << 3), 8);
      }
    }
  }
  let notOnGrid = 0;
  for (let k = 0; k < 8; k++) if (!load<u8>(BOG + k)) notOnGrid++;
  if (notOnGrid > 0 && scale > 0) {
    const id: f32 = <f32>1 / scale;
    for (let k = 0; k < 8; k++) {
      if (xxs && load<u8>(BOG + k)) continue;
      let gi = load<i32>(MAP + (<usize>tuple(id, k) << 2));
      if (gi < 0) gi = bestNeighbour(gi, k, scale);
      store<i32>(BGI + (<usize>k << 2), gi);
    }
    let sumqx: f32 = 0, sumq2: f32 = 0;
    for (let j = 0; j < 32; j++) {
      const q = ld(GRID + (<usize>load<i32>(BGI + (<usize>(j >> 2) << 2)) << 4), j & 3);
      sumqx += ld(WX, j) * q;
      sumq2 += ld(W, j) * q * q;
    }
    if (sumq2 > 0) scale = sumqx / sumq2;
  }
  return scale;
}

/** `sumx2 += xbl[i]*xbl[i]` over the super-block, then σ² = 2·sumx2/256. */
// @ts-ignore: decorator
@inline function sigma2Of(x: usize): f32 {
  let s: f32 = 0;
  for (let i = 0; i < 256; i++) { const v = load<f32>(x + (<usize>i << 2)); s += v * v; }
  return <f32>2 * s / <f32>256;
}

/** weight (qw·sqrtf(σ² + x²), or x² without qw) and waux = sqrtf(weight) for the 32 values at xb. */
// @ts-ignore: decorator
@inline function weights(xb: usize, qw: usize, hasQw: bool, sigma2: f32): void {
  for (let i = 0; i < 32; i++) {
    const v = ld(xb, i);
    const w: f32 = hasQw ? ld(qw, i) * sqrt<f32>(sigma2 + v * v) : v * v;
    st(W, i, w);
    st(WA, i, sqrt<f32>(w));
  }
}

/** xval's largest value, C's `max = MAX(max, xval[i])` from xval[0]. */
// @ts-ignore: decorator
@inline function maxXval(): f32 {
  let max = ld(XV, 0);
  for (let i = 1; i < 32; i++) { const v = ld(XV, i); max = max > v ? max : v; }
  return max;
}

// @ts-ignore: decorator
@inline function fillWX(): void {
  for (let i = 0; i < 32; i++) st(WX, i, ld(W, i) * ld(XV, i));
}

/** One IQ3_XXS super-block (98 bytes: d | qs[64] | 8 × u32 scales_and_signs) from x, weights qw. */
function blockXXS(x: usize, y: usize, qw: usize, hasQw: bool): void {
  memory.fill(y, 0, 98);
  const sigma2 = sigma2Of(x);
  let maxScale: f32 = 0;
  for (let ib = 0; ib < 8; ib++) {
    const xb = x + (<usize>ib << 7);
    weights(xb, qw + (<usize>ib << 7), hasQw, sigma2);
    for (let k = 0; k < 4; k++) {
      let nflip = 0, s = 0;
      for (let i = 0; i < 8; i++) {
        const v = ld(xb, 8 * k + i);
        if (v >= 0) st(XV, 8 * k + i, v);
        else { st(XV, 8 * k + i, -v); nflip++; s |= 1 << i; }
      }
      if (nflip & 1) {
        // Flip the value that costs least (w·x²) so the 8 signs have even parity.
        let imin = 0;
        let min: f32 = ld(W, 8 * k) * ld(xb, 8 * k) * ld(xb, 8 * k);
        for (let i = 1; i < 8; i++) {
          const ax: f32 = ld(W, 8 * k + i) * ld(xb, 8 * k + i) * ld(xb, 8 * k + i);
          if (ax < min) { min = ax; imin = i; }
        }
        st(XV, 8 * k + imin, -ld(XV, 8 * k + imin));
        s ^= 1 << imin;
      }
      store<i32>(SIGNS + (<usize>k << 2), s & 127);
    }
    const max = maxXval();
    if (max < <f32>1e-8) { st(SCALES, ib, 0); continue; }
    fillWX();
    let scale = searchSubBlock(max, 15, true);
    if (scale < 0) {
      scale = -scale;
      for (let k = 0; k < 4; k++) store<i32>(SIGNS + (<usize>k << 2), ~load<i32>(SIGNS + (<usize>k << 2)) & 127);
    }
    for (let k = 0; k < 8; k++) store<u8>(y + 2 + (<usize>ib << 3) + k, <u8>load<i32>(BGI + (<usize>k << 2)));
    const sas = load<i32>(SIGNS) | (load<i32>(SIGNS, 4) << 7) | (load<i32>(SIGNS, 8) << 14) | (load<i32>(SIGNS, 12) << 21);
    store<u32>(y + 66 + (<usize>ib << 2), sas);
    if (!(scale >= 0)) abort('GGML_ASSERT(scale >= 0) failed in quantize_row_iq3_xxs_impl');
    st(SCALES, ib, scale);
    maxScale = maxScale > scale ? maxScale : scale;
  }
  if (maxScale == 0) { memory.fill(y, 0, 98); return; }
  const d: f32 = maxScale / <f32>31;
  store<u16>(y, <u16>fp32ToFp16(d * <f32>1.0125));
  const id: f32 = <f32>1 / d;
  for (let ib = 0; ib < 8; ib++) {
    let l = nearestInt(<f32>0.5 * (id * ld(SCALES, ib) - <f32>1));
    l = 15 < l ? 15 : l;
    l = 0 > l ? 0 : l;
    const p = y + 66 + (<usize>ib << 2);
    store<u32>(p, load<u32>(p) | (<u32>l << 28));
  }
}

/** One IQ3_S super-block (110 bytes: d | qs[64] | qh[8] | signs[32] | scales[4]). */
function blockS(x: usize, y: usize, qw: usize, hasQw: bool): void {
  memory.fill(y, 0, 110);
  // Upstream advances qs and signs only for sub-blocks it quantizes (qh is indexed by ib).
  let qs = y + 2, signs = y + 74;
  const qh = y + 66;
  const sigma2 = sigma2Of(x);
  let maxScale: f32 = 0;
  for (let ib = 0; ib < 8; ib++) {
    const xb = x + (<usize>ib << 7);
    weights(xb, qw + (<usize>ib << 7), hasQw, sigma2);
    for (let k = 0; k < 4; k++) {
      let s = 0;
      for (let i = 0; i < 8; i++) {
        const v = ld(xb, 8 * k + i);
        if (v >= 0) st(XV, 8 * k + i, v);
        else { st(XV, 8 * k + i, -v); s |= 1 << i; }
      }
      store<i32>(SIGNS + (<usize>k << 2), s);
    }
    const max = maxXval();
    if (max == 0) { st(SCALES, ib, 0); continue; }
    fillWX();
    let scale = searchSubBlock(max, 9, false);
    if (scale < 0) {
      scale = -scale;
      for (let k = 0; k < 4; k++) store<i32>(SIGNS + (<usize>k << 2), ~load<i32>(SIGNS + (<usize>k << 2)) & 255);
    }
    let h = 0;
    for (let k = 0; k < 8; k++) {
      const gi = load<i32>(BGI + (<usize>k << 2));
      store<u8>(qs + k, <u8>(gi & 255));
      h |= (gi >> 8) << k;
    }
    store<u8>(qh + ib, <u8>h);
    qs += 8;
    for (let k = 0; k < 4; k++) store<u8>(signs + k, <u8>load<i32>(SIGNS + (<usize>k << 2)));
    signs += 4;
    if (!(scale >= 0)) abort('GGML_ASSERT(scale >= 0) failed in quantize_row_iq3_s_impl');
    st(SCALES, ib, scale);
    maxScale = maxScale > scale ? maxScale : scale;
  }
  if (maxScale == 0) return;
  const d: f32 = maxScale / <f32>31;
  store<u16>(y, <u16>fp32ToFp16(d * <f32>1.033));
  const id: f32 = <f32>1 / d;
  for (let ib = 0; ib < 8; ib += 2) {
    let l1 = nearestInt(<f32>0.5 * (id * ld(SCALES, ib) - <f32>1));
    l1 = 15 < l1 ? 15 : l1;
    l1 = 0 > l1 ? 0 : l1;
    let l2 = nearestInt(<f32>0.5 * (id * ld(SCALES, ib + 1) - <f32>1));
    l2 = 15 < l2 ? 15 : l2;
    l2 = 0 > l2 ? 0 : l2;
    store<u8>(y + 106 + (ib >> 1), <u8>(l1 | (l2 << 4)));
  }
}

// @ts-ignore: decorator
@inline function use256(): void { iq3Init(256); GRID = GRID_256; MAP = MAP_256; CH = CH_256; }
// @ts-ignore: decorator
@inline function use512(): void { iq3Init(512); GRID = GRID_512; MAP = MAP_512; CH = CH_512; }

/** Whole rows (x, y, nrows, nPerRow, qw): qw the row's nPerRow importance weights. */
export function quantizeIQ3_XXSImatrix(x: usize, y: usize, nrows: i32, nPerRow: i32, qw: usize): void {
  use256();
  const nb = nPerRow >> 8;
  for (let r = 0; r < nrows; r++) {
    for (let i = 0; i < nb; i++, x += 1024, y += 98) blockXXS(x, y, qw + (<usize>i << 10), true);
  }
}

/** NULL imatrix (x² weights): blocks are independent. */
export function quantizeIQ3_XXS(x: usize, y: usize, blocks: i32): void {
  use256();
  for (let i = 0; i < blocks; i++, x += 1024, y += 98) blockXXS(x, y, 0, false);
}

export function quantizeIQ3_SImatrix(x: usize, y: usize, nrows: i32, nPerRow: i32, qw: usize): void {
  use512();
  const nb = nPerRow >> 8;
  for (let r = 0; r < nrows; r++) {
    for (let i = 0; i < nb; i++, x += 1024, y += 110) blockS(x, y, qw + (<usize>i << 10), true);
  }
}

export function quantizeIQ3_S(x: usize, y: usize, blocks: i32): void {
  use512();
  for (let i = 0; i < blocks; i++, x += 1024, y += 110) blockS(x, y, 0, false);
}
