// IQ4_NL and IQ4_XS with an importance matrix: `quantize_row_iq4_nl_impl(…, quant_weights,
// ntry = 7)` (ggml-quants.c) as `quantize_iq4_nl` / `quantize_iq4_xs` run it, byte-identical to
// kernels/ref/iq4-quantize.ts. The per-group scale search (15 candidate scales, codes from
// best_index_int8 over kvalues_iq4nl) runs 4 groups of 32 at a time, one per SIMD lane, each lane
// the scalar C sequence of its group; best_index_int8 per lane is a count of midpoints (bestIndex4).
//
// Exports take whole rows: (x, y, nrows, nPerRow, qw), qw the row's nPerRow importance weights.
import { nearestInt, fp32ToFp16 } from './numeric';
import { transpose4 } from './simd';

const XT = memory.data(32 * 16, 16);
const QT = memory.data(32 * 16, 16);
const WT = memory.data(32 * 16, 16);
const SC = memory.data(8 * 4, 16);
const PADX = memory.data(4 * 32 * 4, 16);
const PADQ = memory.data(4 * 32 * 4, 16);

// @ts-ignore: decorator
@inline function at(p: usize, i: i32): v128 { return v128.load(p + (<usize>i << 4)); }

// Vector constants as memory, one load each (measured a little faster here than v128 literals).
const KV = memory.data<i8>([-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113], 16);
const HIGH_BYTES = memory.data<u32>([0xffffff00, 0xffffff00, 0xffffff00, 0xffffff00], 16);
/** The midpoints (values[k] + values[k+1])/2, k = 0..14, each splat over 4 lanes. */
const MID = memory.data<f32>([-115.5, -115.5, -115.5, -115.5, -93.5, -93.5, -93.5, -93.5, -74, -74, -74, -74, -57, -57, -57, -57, -42, -42, -42, -42, -28.5, -28.5, -28.5, -28.5, -16, -16, -16, -16, -4.5, -4.5, -4.5, -4.5, 7, 7, 7, 7, 19, 19, 19, 19, 31.5, 31.5, 31.5, 31.5, 45.5, 45.5, 45.5, 45.5, 61, 61, 61, 61, 79, 79, 79, 79, 101, 101, 101, 101], 16);

/** values[idx] per lane (idx 0..15) as floats. */
// @ts-ignore: decorator
@inline function kvOf(idx: v128): v128 {
  const b = i8x16.swizzle(v128.load(KV), v128.or(idx, v128.load(HIGH_BYTES)));
  return f32x4.convert_i32x4_s(i32x4.shr_s(i32x4.shl(b, 24), 24));
}

// @ts-ignore: decorator
@inline function ge(x: v128, k: i32): v128 { return f32x4.ge(x, v128.load(MID + (<usize>k << 4))); }

/**
 * `best_index_int8(16, kvalues_iq4nl, x)` per lane: the number of midpoints ≤ x, NaN → 15.
 * Why this is the C result: for −127 < x < 113 the search brackets x as lo ≤ x < hi (neighbouring
 * values) and picks lo iff F(x − lo) < F(hi − x). Every midpoint has |mid| ≥ 4.5 and every half-gap
 * is ≤ 12 < 2^(e+1) for x's binade 2^e there, so within 2^-18 of a midpoint both subtractions are
 * exact and the test is exactly x < mid; farther away their rounding (≤ 2^-20 each, results < 32)
 * cannot flip it. A tie (x = mid) picks hi, as `<` does. x ≤ −127 counts 0 and x ≥ 113 counts 15,
 * the clamps; NaN fails every comparison in C and ends at 15.
 */
// @ts-ignore: decorator
@inline function bestIndex4(x: v128): v128 {
  const a0 = i32x4.add(ge(x, 0), ge(x, 1)), a1 = i32x4.add(ge(x, 2), ge(x, 3));
  const a2 = i32x4.add(ge(x, 4), ge(x, 5)), a3 = i32x4.add(ge(x, 6), ge(x, 7));
  const a4 = i32x4.add(ge(x, 8), ge(x, 9)), a5 = i32x4.add(ge(x, 10), ge(x, 11));
  const a6 = i32x4.add(ge(x, 12), ge(x, 13));
  const sum = i32x4.add(i32x4.add(i32x4.add(a0, a1), i32x4.add(a2, a3)), i32x4.add(i32x4.add(a4, a5), i32x4.add(a6, ge(x, 14))));
  return v128.bitselect(i32x4.splat(15), i32x4.neg(sum), f32x4.ne(x, x));
}

/** w = qw·sqrtf(σ² + x²) for 4 transposed groups of 32 (σ² per lane). */
// @ts-ignore: decorator
@inline function weights4(s2: v128): void {
  for (let j = 0; j < 32; j++) {
    const v = at(XT, j);
    v128.store(WT + (<usize>j << 4), f32x4.mul(at(QT, j), f32x4.sqrt(f32x4.add(s2, f32x4.mul(v, v)))));
  }
}

/** The first pass or one candidate: Σ w·q·x and Σ w·q·q over a lane's group for scale inverse id. */
// @ts-ignore: decorator
@inline function sums4(id: v128, out: usize): void {
  let sqx = f32x4.splat(0), sq2 = f32x4.splat(0);
  for (let j = 0; j < 32; j++) {
    const v = at(XT, j);
    const q = kvOf(bestIndex4(f32x4.mul(id, v)));
    const wq = f32x4.mul(at(WT, j), q);
    sqx = f32x4.add(sqx, f32x4.mul(wq, v));
    sq2 = f32x4.add(sq2, f32x4.mul(wq, q));
  }
  v128.store(out, sqx);
  v128.store(out, sq2, 16);
}

const SUMS = memory.data(32, 16);

/** The scale search of 4 groups (XT, WT): each lane's d, 0 for an all-(near-)zero group. */
function searchQuad(): v128 {
  const zero = f32x4.splat(0);
  let max = zero, amax = zero;
  for (let j = 0; j < 32; j++) {
    const v = at(XT, j), ax = f32x4.abs(v);
    const gt = f32x4.gt(ax, amax); // if (ax > amax) { amax = ax; max = x }
    amax = v128.bitselect(ax, amax, gt);
    max = v128.bitselect(v, max, gt);
  }
  const tiny = f32x4.lt(amax, f32x4.splat(<f32>1e-15));
  let d = f32x4.div(f32x4.neg(max), f32x4.splat(-127));
  sums4(f32x4.div(f32x4.splat(1), d), SUMS);
  let sqx = v128.load(SUMS), sq2 = v128.load(SUMS, 16);
  d = v128.bitselect(f32x4.div(sqx, sq2), zero, f32x4.gt(sq2, zero));
  let best = f32x4.mul(d, sqx);
  for (let itry = -7; itry <= 7; itry++) {
    sums4(f32x4.div(f32x4.splat(<f32>(itry - 127)), max), SUMS);
    sqx = v128.load(SUMS); sq2 = v128.load(SUMS, 16);
    const take = v128.and(f32x4.gt(sq2, zero), f32x4.gt(f32x4.mul(sqx, sqx), f32x4.mul(best, sq2)));
    d = v128.bitselect(f32x4.div(sqx, sq2), d, take);
    best = v128.bitselect(f32x4.mul(d, sqx), best, take);
  }
  return v128.bitselect(zero, d, tiny);
}

// @ts-ignore: decorator
@inline function code4(xb: usize, k: i32, idv: v128): v128 {
  return bestIndex4(f32x4.mul(idv, v128.load(xb + (<usize>k << 4))));
}

/** Codes of the 32 values at xb for scale inverse id, packed into 16 bytes at q (j low, j+16 high). */
// @ts-ignore: decorator
@inline function codes32(xb: usize, id: f32, q: usize): void {
  const idv = f32x4.splat(id);
  const p0 = v128.or(code4(xb, 0, idv), i32x4.shl(code4(xb, 4, idv), 4)), p1 = v128.or(code4(xb, 1, idv), i32x4.shl(code4(xb, 5, idv), 4));
  const p2 = v128.or(code4(xb, 2, idv), i32x4.shl(code4(xb, 6, idv), 4)), p3 = v128.or(code4(xb, 3, idv), i32x4.shl(code4(xb, 7, idv), 4));
  v128.store(q, i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_s(p0, p1), i16x8.narrow_i32x4_s(p2, p3)));
}

export function quantizeIQ4_NLImatrix(x: usize, y: usize, nrows: i32, nPerRow: i32, qw: usize): void {
  const nb = nPerRow >> 5;
  const two: f32 = <f32>2 / <f32>32;
  for (let r = 0; r < nrows; r++, x += <usize>nPerRow << 2) {
    for (let ib = 0; ib < nb; ib += 4, y += 72) {
      const m = nb - ib < 4 ? nb - ib : 4;
      let xs = x + (<usize>ib << 7), qs = qw + (<usize>ib << 7);
      if (m < 4) {
        memory.fill(PADX, 0, 512); memory.fill(PADQ, 0, 512);
        memory.copy(PADX, xs, <usize>m << 7); memory.copy(PADQ, qs, <usize>m << 7);
        xs = PADX; qs = PADQ;
      }
      transpose4(xs, 128, 32, XT);
      transpose4(qs, 128, 32, QT);
      let s = f32x4.splat(0);
      for (let j = 0; j < 32; j++) { const v = at(XT, j); s = f32x4.add(s, f32x4.mul(v, v)); }
      weights4(f32x4.mul(s, f32x4.splat(two)));
      v128.store(SC, searchQuad());
      for (let k = 0; k < m; k++) {
        const d = load<f32>(SC + (<usize>k << 2));
        const o = y + <usize>(18 * k);
        store<u16>(o, <u16>fp32ToFp16(d));
        codes32(xs + (<usize>k << 7), d != 0 ? <f32>1 / d : 0, o + 2);
      }
      if (m < 4) y -= <usize>(18 * (4 - m));
    }
  }
}

export function quantizeIQ4_XSImatrix(x: usize, y: usize, nrows: i32, nPerRow: i32, qw: usize): void {
  const nb = nPerRow >> 8;
  const two: f32 = <f32>2 / <f32>256;
  for (let r = 0; r < nrows; r++) {
    for (let i = 0; i < nb; i++, x += 1024, y += 136) {
      const q = qw + (<usize>i << 10);
      let s: f32 = 0;
      for (let l = 0; l < 256; l++) { const v = load<f32>(x + (<usize>l << 2)); s += v * v; }
      const s2 = f32x4.splat(s * two);
      for (let g = 0; g < 2; g++) {
        transpose4(x + (<usize>g << 9), 128, 32, XT);
        transpose4(q + (<usize>g << 9), 128, 32, QT);
        weights4(s2);
        v128.store(SC + (<usize>g << 4), searchQuad());
      }
      let maxScale: f32 = 0, amaxScale: f32 = 0;
      for (let ib = 0; ib < 8; ib++) {
        const sc = load<f32>(SC + (<usize>ib << 2)), a = abs<f32>(sc);
        if (a > amaxScale) { amaxScale = a; maxScale = sc; }
      }
      const d: f32 = -maxScale / <f32>32;
      store<u16>(y, <u16>fp32ToFp16(d));
      const id: f32 = d != 0 ? <f32>1 / d : 0;
      let scalesH = 0;
      for (let ib = 0; ib < 8; ib++) {
        let l = nearestInt(id * load<f32>(SC + (<usize>ib << 2)));
        l = 31 < l ? 31 : l;
        l = -32 > l ? -32 : l;
        const dl: f32 = d * <f32>l;
        codes32(x + (<usize>ib << 7), dl != 0 ? <f32>1 / dl : 0, y + 8 + (<usize>ib << 4));
        l += 32;
        const p = y + 4 + (ib >> 1);
        if (ib % 2 == 0) store<u8>(p, <u8>(l & 15));
        else store<u8>(p, load<u8>(p) | <u8>((l & 15) << 4));
        scalesH |= (l >> 4) << (2 * ib);
      }
      store<u16>(y + 2, <u16>scalesH);
    }
  }
}
