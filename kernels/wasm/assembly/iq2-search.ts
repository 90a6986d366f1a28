// The pieces of the IQ2 group search (ggml-quants.c, quantize_row_iq2_{xxs,xs,s}_impl) that run
// for every candidate scale: rounding 8 magnitudes to lattice codes, `iq2_find_best_neighbour`
// (SIMD, 4 neighbours at a time, over a group table derived from iq2-init's neighbour lists), and
// the Σ w·x·q / Σ w·q² sums (4 candidates at a time). Byte-identical to kernels/ref/iq2-quantize.ts:
// every f32 op is the C op in C order (wasm f32 is binary32 with RNE, and a SIMD lane is four
// independent ones; no sum is reassociated).
//
// Group state lives in static scratch (one wasm instance runs one call at a time):
// XVAL/WEIGHT/WAUX f32[32], the chosen codes as int8 in LBEST[32], the candidates' in CAND.
import { iq2Grid, iq2Map, iq2Neighbours, IQ2_MAP_SIZE } from './iq2-init';
import { IQ2_NEIGHBOURS_LEN_256, IQ2_NEIGHBOURS_LEN_512, IQ2_NEIGHBOURS_LEN_1024 } from './iq2-grids';

export const XVAL = memory.data(32 * 4, 16);
export const WEIGHT = memory.data(32 * 4, 16);
export const WAUX = memory.data(32 * 4, 16);
export const LBEST = memory.data(32, 16);
/** Per value and code l: (w·x)·q and (w·q)·q with q = 2l + 1, 4 f32 each (see prepareSums). */
const WXQ = memory.data(32 * 16, 16);
const WQQ = memory.data(32 * 16, 16);

const FLT_MAX: f32 = 3.4028234663852886e38;

// The neighbour lists again, laid out for the SIMD search: each list as groups of 4 neighbours
// (the last group padded with copies of the last neighbour, which can never win: an equal distance
// at a later position loses). A group is 32 bytes, byte 4i + n = 4·c for neighbour n's code c on
// coordinate i: the byte offset of its term in that coordinate's vector of 4 terms (code 0..3).
// GOFF maps a lattice index to its first group. Built on first use per lattice (IQ2 sizes only).
const LISTS_256: i32 = IQ2_MAP_SIZE - 256, LISTS_512: i32 = IQ2_MAP_SIZE - 512, LISTS_1024: i32 = IQ2_MAP_SIZE - 1024;
/** Σ ceil(n/4) ≤ (Σ n + 3·lists)/4 = (table length + 2·lists)/4 groups. */
const CAP_256: i32 = (IQ2_NEIGHBOURS_LEN_256 + 2 * LISTS_256) / 4;
const CAP_512: i32 = (IQ2_NEIGHBOURS_LEN_512 + 2 * LISTS_512) / 4;
const CAP_1024: i32 = (IQ2_NEIGHBOURS_LEN_1024 + 2 * LISTS_1024) / 4;
const GROUPS_256 = memory.data(32 * CAP_256, 16);
const GROUPS_512 = memory.data(32 * CAP_512, 16);
const GROUPS_1024 = memory.data(32 * CAP_1024, 16);
const GOFF_256 = memory.data(4 * IQ2_MAP_SIZE, 16);
const GOFF_512 = memory.data(4 * IQ2_MAP_SIZE, 16);
const GOFF_1024 = memory.data(4 * IQ2_MAP_SIZE, 16);
let groupsBuilt: i32 = 0;

/** The group table of an IQ2 lattice (256, 512 or 1024 points), built on first use. */
export function iq2Groups(size: i32): usize {
  const slot = size == 256 ? 0 : size == 512 ? 1 : 2;
  const groups = slot == 0 ? GROUPS_256 : slot == 1 ? GROUPS_512 : GROUPS_1024;
  if (!(groupsBuilt & (1 << slot))) buildGroups(size, groups, iq2GroupOffsets(size), slot == 0 ? CAP_256 : slot == 1 ? CAP_512 : CAP_1024);
  groupsBuilt |= 1 << slot;
  return groups;
}

/** Per lattice index, its first group in iq2Groups(size) (valid for off-lattice indexes). */
export function iq2GroupOffsets(size: i32): usize {
  return size == 256 ? GOFF_256 : size == 512 ? GOFF_512 : GOFF_1024;
}

function buildGroups(size: i32, groups: usize, goff: usize, cap: i32): void {
  const grid = iq2Grid(size), map = iq2Map(size), nb = iq2Neighbours(size);
  let count = 0;
  for (let u = 0; u < IQ2_MAP_SIZE; u++) {
    const m = load<i32>(map + (<usize>u << 2));
    if (m >= 0) continue;
    const list = nb + (<usize>(-m - 1) << 1);
    const n = <i32>load<u16>(list);
    const ng = (n + 3) >> 2;
    if (count + ng > cap) abort('iq2 search: group table overflow');
    store<i32>(goff + (<usize>u << 2), count);
    for (let j = 0; j < 4 * ng; j++) {
      const id = <i32>load<u16>(list + 2 + (<usize>(j < n ? j : n - 1) << 1));
      const g = groups + (<usize>(count + (j >> 2)) << 5) + (j & 3);
      for (let i = 0; i < 8; i++) store<u8>(g + 4 * i, <u8>(2 * (<i32>load<i8>(grid + (<usize>id << 3) + i) - 1))); // 2l+1 → 4l
    }
    count += ng;
  }
}

// @ts-ignore: decorator
@inline function term4(sv: v128, x: f32, w: f32): v128 {
  const d = f32x4.sub(sv, f32x4.splat(x)); // scale·q − x for q = 1, 3, 5, 7
  return f32x4.mul(f32x4.mul(f32x4.splat(w), d), d);
}

/**
 * `iq2_find_best_neighbour(neighbours, grid, xval, waux, scale, L)` for the list at `list` (a count
 * n, then n point numbers) whose groups start at `groups`: the first listed point with the least
 * Σ_i w_i·(scale·q_i − x_i)², each sum taken in C order (0 + t_0 + … + t_7). A coordinate's term
 * depends only on its code, so the 4 possible terms of each coordinate are computed once (a
 * vector), and 4 neighbours are summed at once, one per lane, each lane picking its terms by a
 * byte swizzle. A lane keeps its first least distance (C's `<` scan); across lanes the least
 * distance, then the earliest position, wins: exactly the point the sequential scan keeps. NaN
 * distances never win, as in C. Writes the point's codes to out[0..8) and returns it; aborts
 * (GGML_ASSERT upstream) if no distance is below FLT_MAX.
 */
export function bestNeighbour(list: usize, groups: usize, grid: usize, xv: usize, wa: usize, scale: f32, out: usize): i32 {
  const n = <i32>load<u16>(list);
  const sv = f32x4.mul(f32x4.splat(scale), f32x4(1, 3, 5, 7));
  const t0 = term4(sv, load<f32>(xv), load<f32>(wa)), t1 = term4(sv, load<f32>(xv, 4), load<f32>(wa, 4));
  const t2 = term4(sv, load<f32>(xv, 8), load<f32>(wa, 8)), t3 = term4(sv, load<f32>(xv, 12), load<f32>(wa, 12));
  const t4 = term4(sv, load<f32>(xv, 16), load<f32>(wa, 16)), t5 = term4(sv, load<f32>(xv, 20), load<f32>(wa, 20));
  const t6 = term4(sv, load<f32>(xv, 24), load<f32>(wa, 24)), t7 = term4(sv, load<f32>(xv, 28), load<f32>(wa, 28));
  const lanes = i8x16(0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3);
  let bestV = f32x4.splat(FLT_MAX), bestI = i32x4.splat(-1);
  const end = groups + (<usize>((n + 3) >> 2) << 5);
  for (let g = groups; g < end; g += 32) {
    // Byte 4i + n of the group is neighbour n's offset on coordinate i; the two byte-interleaves
    // and the word-interleaves spread coordinate i's 4 offsets over the 4 lanes' bytes.
    const A = v128.load(g), B = v128.load(g, 16);
    const A01 = i8x16.shuffle(A, A, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
    const A23 = i8x16.shuffle(A, A, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
    let s = f32x4.add(f32x4.splat(0), i8x16.swizzle(t0, i8x16.add(i8x16.shuffle(A01, A01, 0, 1, 0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7, 6, 7), lanes)));
    s = f32x4.add(s, i8x16.swizzle(t1, i8x16.add(i8x16.shuffle(A01, A01, 8, 9, 8, 9, 10, 11, 10, 11, 12, 13, 12, 13, 14, 15, 14, 15), lanes)));
    s = f32x4.add(s, i8x16.swizzle(t2, i8x16.add(i8x16.shuffle(A23, A23, 0, 1, 0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7, 6, 7), lanes)));
    s = f32x4.add(s, i8x16.swizzle(t3, i8x16.add(i8x16.shuffle(A23, A23, 8, 9, 8, 9, 10, 11, 10, 11, 12, 13, 12, 13, 14, 15, 14, 15), lanes)));
    const B01 = i8x16.shuffle(B, B, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
    const B23 = i8x16.shuffle(B, B, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
    s = f32x4.add(s, i8x16.swizzle(t4, i8x16.add(i8x16.shuffle(B01, B01, 0, 1, 0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7, 6, 7), lanes)));
    s = f32x4.add(s, i8x16.swizzle(t5, i8x16.add(i8x16.shuffle(B01, B01, 8, 9, 8, 9, 10, 11, 10, 11, 12, 13, 12, 13, 14, 15, 14, 15), lanes)));
    s = f32x4.add(s, i8x16.swizzle(t6, i8x16.add(i8x16.shuffle(B23, B23, 0, 1, 0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7, 6, 7), lanes)));
    s = f32x4.add(s, i8x16.swizzle(t7, i8x16.add(i8x16.shuffle(B23, B23, 8, 9, 8, 9, 10, 11, 10, 11, 12, 13, 12, 13, 14, 15, 14, 15), lanes)));
    const lt = f32x4.lt(s, bestV);
    bestV = v128.bitselect(s, bestV, lt);
    bestI = v128.bitselect(i32x4.add(i32x4.splat(<i32>(g - groups) >> 3), i32x4(0, 1, 2, 3)), bestI, lt);
  }
  // The least distance (no NaN in bestV), then the least position among the lanes holding it.
  const m = f32x4.min(bestV, i32x4.shuffle(bestV, bestV, 2, 3, 0, 1));
  const least = f32x4.min(m, i32x4.shuffle(m, m, 1, 0, 3, 2));
  if (f32x4.extract_lane(least, 0) == FLT_MAX) abort('iq2 quantizer: no neighbour at a finite distance (GGML_ASSERT(grid_index >= 0) upstream)');
  const c = v128.bitselect(bestI, i32x4.splat(i32.MAX_VALUE), f32x4.eq(bestV, least));
  const c1 = i32x4.min_s(c, i32x4.shuffle(c, c, 2, 3, 0, 1));
  const bi = i32x4.extract_lane(i32x4.min_s(c1, i32x4.shuffle(c1, c1, 1, 0, 3, 2)), 0);
  // A padded lane never wins (see the group table), so bi < n.
  const best = <i32>load<u16>(list + 2 + (<usize>bi << 1));
  const q = v128.load64_zero(grid + (<usize>best << 3)); // 2l + 1 → l
  v128.store64_lane(out, i8x16.shr_s(i8x16.sub(q, i8x16.splat(1)), 1), 0);
  return best;
}

/**
 * Codes of the 8 magnitudes at xv for scale inverse id: l = nearest_int(0.5·(id·x − 1)) clamped to
 * 0..2, stored as bytes at out; returns the lattice index Σ l_i·4^i.
 */
// @ts-ignore: decorator
@inline export function roundGroup(id: f32, xv: usize, out: usize): i32 {
  const idv = f32x4.splat(id), half = f32x4.splat(0.5), one = f32x4.splat(1);
  const a = f32x4.mul(half, f32x4.sub(f32x4.mul(idv, v128.load(xv)), one));
  const b = f32x4.mul(half, f32x4.sub(f32x4.mul(idv, v128.load(xv, 16)), one));
  const la = clamp02(nearest4(a)), lb = clamp02(nearest4(b));
  const packed = i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_s(la, lb), la);
  v128.store64_lane(out, packed, 0);
  let u = i32x4.add(i32x4.mul(la, i32x4(1, 4, 16, 64)), i32x4.mul(lb, i32x4(256, 1024, 4096, 16384)));
  u = i32x4.add(u, i32x4.shuffle(u, u, 2, 3, 0, 1));
  return i32x4.extract_lane(u, 0) + i32x4.extract_lane(u, 1);
}

// @ts-ignore: decorator
@inline function nearest4(v: v128): v128 {
  const t = f32x4.add(v, f32x4.splat(12582912.0));
  return i32x4.sub(v128.and(t, i32x4.splat(0x007fffff)), i32x4.splat(0x00400000));
}

// @ts-ignore: decorator
@inline function clamp02(l: v128): v128 {
  return i32x4.max_s(i32x4.min_s(l, i32x4.splat(2)), i32x4.splat(0));
}

/** Fills WXQ/WQQ for the n values of the group (products rounded as C rounds them). */
export function prepareSums(n: i32): void {
  const q = f32x4(1, 3, 5, 7);
  for (let i = 0; i < n; i++) {
    const w = load<f32>(WEIGHT + (<usize>i << 2));
    const wx: f32 = w * load<f32>(XVAL + (<usize>i << 2));
    v128.store(WXQ + (<usize>i << 4), f32x4.mul(f32x4.splat(wx), q));
    v128.store(WQQ + (<usize>i << 4), f32x4.mul(f32x4.mul(f32x4.splat(w), q), q));
  }
}

export let sumQX: f32 = 0;
export let sumQ2: f32 = 0;

/** Σ (w·x)·q and Σ (w·q)·q over the n codes at L, in order (after prepareSums). */
export function sums(L: usize, n: i32): void {
  let sx: f32 = 0, s2: f32 = 0;
  for (let i = 0; i < n; i++) {
    const o = (<usize>i << 4) + (<usize>(load<u8>(L + i) & 3) << 2);
    sx += load<f32>(WXQ + o);
    s2 += load<f32>(WQQ + o);
  }
  sumQX = sx; sumQ2 = s2;
}

/** Codes of every candidate scale of a group (up to 20 candidates × 32 codes), and their sums. */
export const CAND = memory.data(20 * 32, 16);
export const CAND_SX = memory.data(20 * 4, 16);
export const CAND_S2 = memory.data(20 * 4, 16);

/**
 * `sums` for 4 candidates at once, one per lane: candidates c0..c0+3 with codes at CAND + c·stride,
 * n values (16 or 32), results to CAND_SX/CAND_S2[c0..c0+4). Each lane adds in value order, as C.
 * Per 16 values the 4 code rows are transposed so value i's 4 codes sit in one 32-bit lane; a
 * byte shuffle spreads them over the lanes as swizzle offsets into that value's 4 products.
 */
export function sums4(c0: i32, stride: i32, n: i32): void {
  const lanes = i8x16(0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3);
  let sx = f32x4.splat(0), s2 = f32x4.splat(0);
  const base = CAND + <usize>(c0 * stride);
  for (let h = 0; h < n; h += 16) {
    const p = base + <usize>h;
    const v0 = v128.load(p), v1 = v128.load(p + <usize>stride), v2 = v128.load(p + <usize>(2 * stride)), v3 = v128.load(p + <usize>(3 * stride));
    const t0 = i8x16.shuffle(v0, v1, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const t1 = i8x16.shuffle(v0, v1, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const t2 = i8x16.shuffle(v2, v3, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const t3 = i8x16.shuffle(v2, v3, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    // 4·(code & 3): the byte offset of the code's product in a value's vector of 4.
    const m = i8x16.splat(12);
    const u0 = v128.and(i8x16.shl(i16x8.shuffle(t0, t2, 0, 8, 1, 9, 2, 10, 3, 11), 2), m);
    const u1 = v128.and(i8x16.shl(i16x8.shuffle(t0, t2, 4, 12, 5, 13, 6, 14, 7, 15), 2), m);
    const u2 = v128.and(i8x16.shl(i16x8.shuffle(t1, t3, 0, 8, 1, 9, 2, 10, 3, 11), 2), m);
    const u3 = v128.and(i8x16.shl(i16x8.shuffle(t1, t3, 4, 12, 5, 13, 6, 14, 7, 15), 2), m);
    const w = WXQ + (<usize>h << 4), q = WQQ + (<usize>h << 4);
    for (let k = 0; k < 4; k++) {
      const u = k == 0 ? u0 : k == 1 ? u1 : k == 2 ? u2 : u3;
      const o = <usize>(k << 6);
      let ix = i8x16.add(i8x16.shuffle(u, u, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3), lanes);
      sx = f32x4.add(sx, i8x16.swizzle(v128.load(w + o), ix)); s2 = f32x4.add(s2, i8x16.swizzle(v128.load(q + o), ix));
      ix = i8x16.add(i8x16.shuffle(u, u, 4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7), lanes);
      sx = f32x4.add(sx, i8x16.swizzle(v128.load(w + o, 16), ix)); s2 = f32x4.add(s2, i8x16.swizzle(v128.load(q + o, 16), ix));
      ix = i8x16.add(i8x16.shuffle(u, u, 8, 8, 8, 8, 9, 9, 9, 9, 10, 10, 10, 10, 11, 11, 11, 11), lanes);
      sx = f32x4.add(sx, i8x16.swizzle(v128.load(w + o, 32), ix)); s2 = f32x4.add(s2, i8x16.swizzle(v128.load(q + o, 32), ix));
      ix = i8x16.add(i8x16.shuffle(u, u, 12, 12, 12, 12, 13, 13, 13, 13, 14, 14, 14, 14, 15, 15, 15, 15), lanes);
      sx = f32x4.add(sx, i8x16.swizzle(v128.load(w + o, 48), ix)); s2 = f32x4.add(s2, i8x16.swizzle(v128.load(q + o, 48), ix));
    }
  }
  v128.store(CAND_SX + (<usize>c0 << 2), sx);
  v128.store(CAND_S2 + (<usize>c0 << 2), s2);
}
