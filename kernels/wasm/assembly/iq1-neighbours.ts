// `iq1_find_best_neighbour2` (ggml-quants.c) for IQ1_S/IQ1_M, over the 2048-point lattice tables
// of `iq2xs_init_impl` (iq2-init.ts), rearranged once so that 4 candidates are scored per SIMD step.
//
// The quantizers only look up code tuples with codes 0..2 (3^8 = 6561 of them). For each, ENTRY
// holds its point number if it is on the lattice, else where its neighbour list starts in CODES /
// GIDX (in quads of 4 candidates, list order) and how many quads it has. A quad is 32 bytes of
// codes, byte 4p + lane = 4·(code of candidate `lane` at position p) (12 for padding), and its 4
// point numbers.
//
// Scoring: upstream's d2 for a candidate is 0 + t[0][c0] + … + t[7][c7] in that order, where
// t[p][c] = w_p·diff·diff, diff = scale·xg[c] − x_p, each op binary32. The 24 terms are computed once
// per group; a candidate's term at position p is then a byte swizzle of the 16-byte table
// [t[p][0], t[p][1], t[p][2], NaN] (padding reads the NaN, which never wins). Each lane keeps its
// first strict minimum below FLT_MAX; the lowest candidate number among the lanes holding the
// overall minimum is upstream's answer ("first wins", d2 ≥ +0 so there is no −0 tie).
import { iq2Grid, iq2Map, iq2Neighbours } from './iq2-init';

const N3: i32 = 6561;
/** Σ ceil(n/4) over the 4513 off-lattice code tuples' lists (checked when built). */
const QUADS: i32 = 83615;
const ENTRY = memory.data(4 * N3, 16);
const CODES = memory.data(32 * QUADS, 16);
const GIDX = memory.data(8 * QUADS, 16);
/** Byte p of lane l's word → all 4 bytes of lane l: byte 4p + l copied 4 times, for p = 0..3. */
const REP = memory.data<u8>([
  0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3,
  4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7,
  8, 8, 8, 8, 9, 9, 9, 9, 10, 10, 10, 10, 11, 11, 11, 11,
  12, 12, 12, 12, 13, 13, 13, 13, 14, 14, 14, 14, 15, 15, 15, 15,
], 16);
const FLT_MAX: f32 = 3.4028234663852886e38;

let grid: usize = 0;
let ready = false;

/** Builds the tables on first use (and the 2048-point lattice under them). */
export function iq1Prepare(): void {
  if (ready) return;
  const map = iq2Map(2048), nb = iq2Neighbours(2048);
  grid = iq2Grid(2048);
  let q = 0;
  for (let t = 0; t < N3; t++) {
    let u = 0, v = t;
    for (let j = 0; j < 8; j++) { u |= (v % 3) << (2 * j); v /= 3; }
    const m = load<i32>(map + (<usize>u << 2));
    if (m >= 0) { store<i32>(ENTRY + (<usize>t << 2), m); continue; }
    const off = -m - 1;
    const n = <i32>load<u16>(nb + (<usize>off << 1));
    const nq = (n + 3) >> 2;
    if (n <= 0 || q + nq > QUADS) abort('iq1 neighbours: lists differ from the 2048-point lattice');
    store<i32>(ENTRY + (<usize>t << 2), -1 - ((q << 8) | nq));
    for (let s = 0; s < 4 * nq; s++) {
      const c = CODES + (<usize>(q + (s >> 2)) << 5) + (s & 3);
      if (s < n) {
        const g = <i32>load<u16>(nb + (<usize>(off + 1 + s) << 1));
        store<u16>(GIDX + (<usize>(4 * q + s) << 1), <u16>g);
        for (let p = 0; p < 8; p++) store<u8>(c + (p << 2), <u8>(((load<i8>(grid + (<usize>g << 3) + p) - 1) >> 1) << 2));
      } else {
        store<u16>(GIDX + (<usize>(4 * q + s) << 1), 0);
        for (let p = 0; p < 8; p++) store<u8>(c + (p << 2), 12);
      }
    }
    q += nq;
  }
  if (q != QUADS) abort('iq1 neighbours: lists differ from the 2048-point lattice');
  ready = true;
}

/** The lattice point of a code tuple (t = Σ code_j·3^j) if on the lattice (≥ 0), else its list entry (< 0). */
// @ts-ignore: decorator
@inline export function iq1Entry(t: i32): i32 {
  return load<i32>(ENTRY + (<usize>t << 2));
}

/** The code (0..2) at position j of lattice point g. */
// @ts-ignore: decorator
@inline export function iq1Code(g: i32, j: i32): i32 {
  return (<i32>load<i8>(grid + (<usize>g << 3) + j) - 1) >> 1;
}

/** [a[p], b[p], c[p], d[p]] for p = 0..3, written as 4 vectors at out. */
// @ts-ignore: decorator
@inline function transpose(a: v128, b: v128, c: v128, d: v128, out: usize): void {
  const ab0 = i32x4.shuffle(a, b, 0, 4, 1, 5), ab1 = i32x4.shuffle(a, b, 2, 6, 3, 7);
  const cd0 = i32x4.shuffle(c, d, 0, 4, 1, 5), cd1 = i32x4.shuffle(c, d, 2, 6, 3, 7);
  v128.store(out, i32x4.shuffle(ab0, cd0, 0, 1, 4, 5));
  v128.store(out, i32x4.shuffle(ab0, cd0, 2, 3, 6, 7), 16);
  v128.store(out, i32x4.shuffle(ab1, cd1, 0, 1, 4, 5), 32);
  v128.store(out, i32x4.shuffle(ab1, cd1, 2, 3, 6, 7), 48);
}

const TERMS = memory.data(8 * 16, 16);

// @ts-ignore: decorator
@inline function term(codes: v128, p: i32, low: v128): v128 {
  const idx = v128.or(i8x16.swizzle(codes, v128.load(REP + (<usize>(p & 3) << 4))), low);
  return i8x16.swizzle(v128.load(TERMS + (<usize>p << 4)), idx);
}

/**
 * `iq1_find_best_neighbour2` for the off-lattice entry e: the point of least Σ w·(scale·xg[code] −
 * x)² among its neighbours, x and w the group's 8 values and weights at xs and ws, xg the 3 shifted
 * code values at xg. When no neighbour scores below FLT_MAX, upstream scans the whole lattice
 * comparing point i against xs[i] — reading past the group, up to 2047 floats on; we read the same
 * floats while they lie before xEnd (the end of this call's input: a wasm piece, where the JS
 * reference reads to the end of its whole array) and abort past it, and abort where upstream's
 * GGML_ASSERT(grid_index >= 0) does. (Only overflowing values can get here; with an importance
 * matrix no test input has.)
 */
export function iq1BestNeighbour(e: i32, xg: usize, xs: usize, ws: usize, scale: f32, xEnd: usize): i32 {
  const x0 = v128.load(xs), x1 = v128.load(xs, 16), w0 = v128.load(ws), w1 = v128.load(ws, 16);
  const s0 = f32x4.splat(scale * load<f32>(xg)), s1 = f32x4.splat(scale * load<f32>(xg, 4)), s2 = f32x4.splat(scale * load<f32>(xg, 8));
  let d = f32x4.sub(s0, x0); const a0 = f32x4.mul(f32x4.mul(w0, d), d);
  d = f32x4.sub(s0, x1); const a1 = f32x4.mul(f32x4.mul(w1, d), d);
  d = f32x4.sub(s1, x0); const b0 = f32x4.mul(f32x4.mul(w0, d), d);
  d = f32x4.sub(s1, x1); const b1 = f32x4.mul(f32x4.mul(w1, d), d);
  d = f32x4.sub(s2, x0); const c0 = f32x4.mul(f32x4.mul(w0, d), d);
  d = f32x4.sub(s2, x1); const c1 = f32x4.mul(f32x4.mul(w1, d), d);
  const nan = f32x4.splat(NaN);
  transpose(a0, b0, c0, nan, TERMS);
  transpose(a1, b1, c1, nan, TERMS + 64);

  const low = i32x4.splat(0x03020100);
  const packed = -1 - e;
  const q0 = packed >> 8, nq = packed & 255;
  let best = f32x4.splat(FLT_MAX), slot = i32x4.splat(0);
  let slots = i32x4.add(i32x4.splat(4 * q0), i32x4(0, 1, 2, 3));
  const four = i32x4.splat(4);
  for (let q = q0; q < q0 + nq; q++) {
    const p = CODES + (<usize>q << 5);
    const lo = v128.load(p), hi = v128.load(p, 16);
    let d2 = f32x4.add(f32x4.splat(0), term(lo, 0, low));
    d2 = f32x4.add(d2, term(lo, 1, low));
    d2 = f32x4.add(d2, term(lo, 2, low));
    d2 = f32x4.add(d2, term(lo, 3, low));
    d2 = f32x4.add(d2, term(hi, 4, low));
    d2 = f32x4.add(d2, term(hi, 5, low));
    d2 = f32x4.add(d2, term(hi, 6, low));
    d2 = f32x4.add(d2, term(hi, 7, low));
    const lt = f32x4.lt(d2, best);
    best = v128.bitselect(d2, best, lt);
    slot = v128.bitselect(slots, slot, lt);
    slots = i32x4.add(slots, four);
  }
  // The overall minimum, then the lowest slot holding it.
  let m = f32x4.min(best, i32x4.shuffle(best, best, 2, 3, 0, 1));
  m = f32x4.min(m, i32x4.shuffle(m, m, 1, 0, 3, 2));
  const min = f32x4.extract_lane(m, 0);
  if (min < FLT_MAX) {
    let s = v128.bitselect(slot, i32x4.splat(0x7fffffff), f32x4.eq(best, m));
    s = i32x4.min_s(s, i32x4.shuffle(s, s, 2, 3, 0, 1));
    s = i32x4.min_s(s, i32x4.shuffle(s, s, 1, 0, 3, 2));
    return <i32>load<u16>(GIDX + (<usize>i32x4.extract_lane(s, 0) << 1));
  }
  let bestScore = FLT_MAX, gi = -1;
  for (let i = 0; i < 2048; i++) {
    const at = xs + (<usize>i << 2);
    if (at >= xEnd) abort('iq1_find_best_neighbour2: upstream reads past the input here (undefined behaviour)');
    const xi = load<f32>(at);
    let d2: f32 = 0;
    for (let j = 0; j < 8; j++) {
      const w = load<f32>(ws + (<usize>j << 2));
      const df: f32 = scale * load<f32>(xg + (<usize>iq1Code(i, j) << 2)) - xi;
      d2 += w * df * df;
    }
    if (d2 < bestScore) { bestScore = d2; gi = i; }
  }
  if (gi < 0) abort('GGML_ASSERT(grid_index >= 0) failed in iq1_find_best_neighbour2');
  return gi;
}
