// The K-quant scale searches for 4 sub-blocks at once, one per SIMD lane: `make_qkx2_quants` and
// `make_qx_quants` (rmse_type 1, no weights) and `make_q3_quants` (do_rmse) from ggml-quants.c. Each lane runs the scalar C
// sequence for its own sub-block, in the same order; the C branches become per-lane selects, so the
// result of every lane equals the scalar C function on that sub-block.
//
// Inputs are transposed (simd.ts transpose4): XT[i] holds element i of the 4 sub-blocks, WT[i] its
// weights. Codes come back in LT (i32 lanes), scales in RES[0..3], the_min in RES[4..7].
import { nearest4, clamp4 } from './simd';

export const XT = memory.data(32 * 16, 16);
export const WT = memory.data(32 * 16, 16);
export const LT = memory.data(32 * 16, 16);
const LAUXT = memory.data(32 * 16, 16);
const WXT = memory.data(32 * 16, 16);
const XMT = memory.data(32 * 16, 16);
const LAUXT2 = memory.data(32 * 16, 16);
export const RES = memory.data(32, 16);

// @ts-ignore: decorator
@inline function at(p: usize, i: i32): v128 { return v128.load(p + (<usize>i << 4)); }

/** XT[i] - min, per lane: the candidate loops need it and `min` only changes when a candidate wins. */
// @ts-ignore: decorator
@inline function shiftByMin(n: i32, min: v128): void {
  for (let i = 0; i < n; i++) v128.store(XMT + (<usize>i << 4), f32x4.sub(at(XT, i), min));
}

/**
 * Whether a candidate's codes may be computed in float (f32x4.nearest + clamp) instead of by
 * emulating nearest_int's magic-number trick: they agree exactly when |v| < 2^22 and v is not NaN.
 * v = iscale·(x − min) is monotonic in x (f32 sub and mul round monotonically), so checking the
 * data's extremes bounds every element; lanes that return early (max == min) do not count, and
 * NaN elements (invisible to min/max) are excluded by the all-finite check.
 */
// @ts-ignore: decorator
@inline function floatSafe(allFinite: bool, iscale: v128, dataMin: v128, dataMax: v128, min: v128, flat: v128): bool {
  if (!allFinite) return false;
  const lim = f32x4.splat(4194304.0);
  const lo = f32x4.abs(f32x4.mul(iscale, f32x4.sub(dataMin, min)));
  const hi = f32x4.abs(f32x4.mul(iscale, f32x4.sub(dataMax, min)));
  return i32x4.all_true(v128.or(flat, v128.and(f32x4.lt(lo, lim), f32x4.lt(hi, lim))));
}

/**
 * make_qkx2_quants(n, nmax, x, w, L, &the_min, Laux, rmin, rdelta, nstep, use_mad), nstep ≥ 1.
 * Inlined so each call site gets its constants (use_mad, nmax, nstep) folded in. Codes are kept
 * as floats during the search (they are small integers, exact) and converted once at the end.
 */
// @ts-ignore: decorator
@inline export function makeQkx2Quants4(n: i32, nmax: i32, rmin: f32, rdelta: f32, nstep: i32, useMad: bool): void {
  const zero = f32x4.splat(0);
  const x0 = at(XT, 0), w0 = at(WT, 0);
  let min = x0, max = x0, sumW = w0, sumX = f32x4.mul(w0, x0);
  let finite = f32x4.lt(f32x4.abs(x0), f32x4.splat(f32.POSITIVE_INFINITY));
  for (let i = 1; i < n; i++) {
    const xi = at(XT, i), wi = at(WT, i);
    min = f32x4.pmin(min, xi); // if (x < min) min = x
    max = f32x4.pmax(max, xi); // if (x > max) max = x
    sumW = f32x4.add(sumW, wi);
    sumX = f32x4.add(sumX, f32x4.mul(wi, xi));
    finite = v128.and(finite, f32x4.lt(f32x4.abs(xi), f32x4.splat(f32.POSITIVE_INFINITY)));
  }
  const dataMin = min, dataMax = max;
  const allFinite = i32x4.all_true(finite);
  const nmaxF = f32x4.splat(<f32>nmax);
  min = f32x4.pmin(min, zero); // if (min > 0) min = 0
  const flat = f32x4.eq(max, min); // these lanes return L = 0, scale 0, the_min = -min
  const flatMin = min;
  shiftByMin(n, min);
  let iscale = f32x4.div(f32x4.splat(<f32>nmax), f32x4.sub(max, min));
  let scale = f32x4.div(f32x4.splat(1), iscale);
  let best = zero;
  for (let i = 0; i < n; i++) {
    const fl = f32x4.convert_i32x4_s(clamp4(nearest4(f32x4.mul(iscale, at(XMT, i))), 0, nmax));
    v128.store(LT + (<usize>i << 4), fl);
    let diff = f32x4.sub(f32x4.add(f32x4.mul(scale, fl), min), at(XT, i));
    diff = useMad ? f32x4.abs(diff) : f32x4.mul(diff, diff);
    best = f32x4.add(best, f32x4.mul(at(WT, i), diff));
  }
  for (let is = 0; is <= nstep; is++) {
    // `min` may have been replaced by an earlier candidate's; C reuses the variable here too.
    iscale = f32x4.div(f32x4.splat(rmin + rdelta * <f32>is + <f32>nmax), f32x4.sub(max, min));
    let sl = zero, sl2 = zero, sxl = zero;
    if (floatSafe(allFinite, iscale, dataMin, dataMax, min, flat)) {
      for (let i = 0; i < n; i++) {
        // pmax(0, v) rather than pmax(v, 0) so that nearest's -0 becomes +0 like the int path.
        const fl = f32x4.pmin(f32x4.pmax(zero, f32x4.nearest(f32x4.mul(iscale, at(XMT, i)))), nmaxF);
        v128.store(LAUXT + (<usize>i << 4), fl);
        const wl = f32x4.mul(at(WT, i), fl);
        sl = f32x4.add(sl, wl);
        sl2 = f32x4.add(sl2, f32x4.mul(wl, fl));
        sxl = f32x4.add(sxl, f32x4.mul(wl, at(XT, i)));
      }
    } else {
      for (let i = 0; i < n; i++) {
        const fl = f32x4.convert_i32x4_s(clamp4(nearest4(f32x4.mul(iscale, at(XMT, i))), 0, nmax));
        v128.store(LAUXT + (<usize>i << 4), fl);
        const wl = f32x4.mul(at(WT, i), fl);
        sl = f32x4.add(sl, wl);
        sl2 = f32x4.add(sl2, f32x4.mul(wl, fl));
        sxl = f32x4.add(sxl, f32x4.mul(wl, at(XT, i)));
      }
    }
    const D = f32x4.sub(f32x4.mul(sumW, sl2), f32x4.mul(sl, sl));
    const dPos = f32x4.gt(D, zero);
    if (!v128.any_true(dPos)) continue;
    let ts = f32x4.div(f32x4.sub(f32x4.mul(sumW, sxl), f32x4.mul(sumX, sl)), D);
    let tm = f32x4.div(f32x4.sub(f32x4.mul(sl2, sumX), f32x4.mul(sl, sxl)), D);
    const tmPos = f32x4.gt(tm, zero);
    tm = v128.bitselect(zero, tm, tmPos);
    ts = v128.bitselect(f32x4.div(sxl, sl2), ts, tmPos);
    let cur = zero;
    for (let i = 0; i < n; i++) {
      let diff = f32x4.sub(f32x4.add(f32x4.mul(ts, at(LAUXT, i)), tm), at(XT, i));
      diff = useMad ? f32x4.abs(diff) : f32x4.mul(diff, diff);
      cur = f32x4.add(cur, f32x4.mul(at(WT, i), diff));
    }
    const take = v128.and(dPos, f32x4.lt(cur, best));
    if (!v128.any_true(take)) continue;
    for (let i = 0; i < n; i++) {
      const p = LT + (<usize>i << 4);
      v128.store(p, v128.bitselect(at(LAUXT, i), v128.load(p), take));
    }
    best = v128.bitselect(cur, best, take);
    scale = v128.bitselect(ts, scale, take);
    min = v128.bitselect(tm, min, take);
    if (is < nstep) shiftByMin(n, min);
  }
  for (let i = 0; i < n; i++) {
    const p = LT + (<usize>i << 4);
    v128.store(p, v128.bitselect(zero, i32x4.trunc_sat_f32x4_s(v128.load(p)), flat));
  }
  scale = v128.bitselect(zero, scale, flat);
  min = v128.bitselect(flatMin, min, flat);
  v128.store(RES, scale);
  v128.store(RES, f32x4.neg(min), 16);
}

/** LT = codes (floats at src) + off in the lanes of `take`. */
// @ts-ignore: decorator
@inline function takeCodes(src: usize, n: i32, off: v128, take: v128): void {
  for (let i = 0; i < n; i++) {
    const p = LT + (<usize>i << 4);
    v128.store(p, v128.bitselect(i32x4.add(i32x4.trunc_sat_f32x4_s(at(src, i)), off), v128.load(p), take));
  }
}

/** make_qx_quants(n, nmax, x, L, rmse_type=1, NULL): codes l + nmax in LT, scale in RES[0..3]. */
export function makeQxQuants4(n: i32, nmax: i32): void {
  const zero = f32x4.splat(0);
  let max = zero, amax = zero;
  let finite = i32x4.splat(-1);
  for (let i = 0; i < n; i++) {
    const xi = at(XT, i), ax = f32x4.abs(xi);
    const gt = f32x4.gt(ax, amax); // if (ax > amax) { amax = ax; max = x }
    amax = v128.bitselect(ax, amax, gt);
    max = v128.bitselect(xi, max, gt);
    finite = v128.and(finite, f32x4.lt(ax, f32x4.splat(f32.POSITIVE_INFINITY)));
  }
  // With every x finite, |iscale*x| ≤ nmax + 1 in the lanes that matter (|x| ≤ |max|, and lanes
  // with amax < 1e-15 are discarded), so nearest_int's magic-number trick equals round-half-even
  // there and the candidates can stay in float: f32x4.nearest, clamp by pmin/pmax. NaN or inf
  // inputs make nearest_int read NaN bits, so those groups keep the integer emulation.
  const allFinite = i32x4.all_true(finite);
  const loF = f32x4.splat(<f32>-nmax), hiF = f32x4.splat(<f32>(nmax - 1));
  const tiny = f32x4.lt(amax, f32x4.splat(<f32>1e-15)); // these lanes return L = 0, scale 0
  const off = i32x4.splat(nmax);
  let iscale = f32x4.div(f32x4.splat(<f32>-nmax), max);
  let sumlx = zero, suml2 = zero;
  for (let i = 0; i < n; i++) {
    const xi = at(XT, i);
    const l = clamp4(nearest4(f32x4.mul(iscale, xi)), -nmax, nmax - 1);
    v128.store(LT + (<usize>i << 4), i32x4.add(l, off));
    const fl = f32x4.convert_i32x4_s(l);
    const w = f32x4.mul(xi, xi), wx = f32x4.mul(w, xi);
    v128.store(WT + (<usize>i << 4), w);
    v128.store(WXT + (<usize>i << 4), wx);
    sumlx = f32x4.add(sumlx, f32x4.mul(wx, fl));
    suml2 = f32x4.add(suml2, f32x4.mul(f32x4.mul(w, fl), fl));
  }
  let scale = v128.bitselect(f32x4.div(sumlx, suml2), zero, f32x4.ne(suml2, zero));
  let best = f32x4.mul(scale, sumlx);
  // The 18 candidates (is = -9..-1, 1..9) are evaluated two at a time: their sums do not depend
  // on each other (only the choice between them does, and that stays sequential below), and two
  // independent add chains per pass hide the latency of the strictly ordered sums.
  for (let k = 0; k < 18; k += 2) {
    const isA = k < 9 ? k - 9 : k - 8, isB = k + 1 < 9 ? k - 8 : k - 7;
    const iscaleA = f32x4.div(f32x4.splat(-(<f32>nmax + <f32>0.1 * <f32>isA)), max);
    const iscaleB = f32x4.div(f32x4.splat(-(<f32>nmax + <f32>0.1 * <f32>isB)), max);
    let lxA = zero, l2A = zero, lxB = zero, l2B = zero;
    // w = x*x and w*x do not depend on the candidate: computed once above (WT, WXT).
    if (allFinite) {
      for (let i = 0; i < n; i++) {
        const xi = at(XT, i);
        const flA = f32x4.pmax(f32x4.pmin(f32x4.nearest(f32x4.mul(iscaleA, xi)), hiF), loF);
        const flB = f32x4.pmax(f32x4.pmin(f32x4.nearest(f32x4.mul(iscaleB, xi)), hiF), loF);
        v128.store(LAUXT + (<usize>i << 4), flA);
        v128.store(LAUXT2 + (<usize>i << 4), flB);
        const wi = at(WT, i), wxi = at(WXT, i);
        lxA = f32x4.add(lxA, f32x4.mul(wxi, flA));
        lxB = f32x4.add(lxB, f32x4.mul(wxi, flB));
        l2A = f32x4.add(l2A, f32x4.mul(f32x4.mul(wi, flA), flA));
        l2B = f32x4.add(l2B, f32x4.mul(f32x4.mul(wi, flB), flB));
      }
    } else {
      for (let i = 0; i < n; i++) {
        const xi = at(XT, i);
        const flA = f32x4.convert_i32x4_s(clamp4(nearest4(f32x4.mul(iscaleA, xi)), -nmax, nmax - 1));
        const flB = f32x4.convert_i32x4_s(clamp4(nearest4(f32x4.mul(iscaleB, xi)), -nmax, nmax - 1));
        v128.store(LAUXT + (<usize>i << 4), flA);
        v128.store(LAUXT2 + (<usize>i << 4), flB);
        const wi = at(WT, i), wxi = at(WXT, i);
        lxA = f32x4.add(lxA, f32x4.mul(wxi, flA));
        lxB = f32x4.add(lxB, f32x4.mul(wxi, flB));
        l2A = f32x4.add(l2A, f32x4.mul(f32x4.mul(wi, flA), flA));
        l2B = f32x4.add(l2B, f32x4.mul(f32x4.mul(wi, flB), flB));
      }
    }
    const takeA = v128.and(f32x4.gt(l2A, zero), f32x4.gt(f32x4.mul(lxA, lxA), f32x4.mul(best, l2A)));
    if (v128.any_true(takeA)) {
      takeCodes(LAUXT, n, off, takeA);
      scale = v128.bitselect(f32x4.div(lxA, l2A), scale, takeA);
      best = v128.bitselect(f32x4.mul(scale, lxA), best, takeA);
    }
    const takeB = v128.and(f32x4.gt(l2B, zero), f32x4.gt(f32x4.mul(lxB, lxB), f32x4.mul(best, l2B)));
    if (v128.any_true(takeB)) {
      takeCodes(LAUXT2, n, off, takeB);
      scale = v128.bitselect(f32x4.div(lxB, l2B), scale, takeB);
      best = v128.bitselect(f32x4.mul(scale, lxB), best, takeB);
    }
  }
  if (v128.any_true(tiny)) {
    for (let i = 0; i < n; i++) {
      const p = LT + (<usize>i << 4);
      v128.store(p, v128.bitselect(zero, v128.load(p), tiny));
    }
    scale = v128.bitselect(zero, scale, tiny);
  }
  v128.store(RES, scale);
}

/**
 * make_q3_quants(n, nmax, x, L, do_rmse=true): codes l + nmax in LT, scale in RES[0..3]. The
 * refinement loop updates the running sums element by element (Gauss-Seidel), so each lane keeps
 * its own sums and stops, like C's `break`, after its first pass without a change.
 */
export function makeQ3Quants4(n: i32, nmax: i32): void {
  const zero = f32x4.splat(0);
  let max = zero, amax = zero;
  for (let i = 0; i < n; i++) {
    const xi = at(XT, i), ax = f32x4.abs(xi);
    const gt = f32x4.gt(ax, amax);
    amax = v128.bitselect(ax, amax, gt);
    max = v128.bitselect(xi, max, gt);
  }
  const tiny = f32x4.lt(amax, f32x4.splat(<f32>1e-15));
  const iscale = f32x4.div(f32x4.splat(<f32>-nmax), max);
  let sumlx = zero, suml2 = zero;
  for (let i = 0; i < n; i++) {
    const xi = at(XT, i);
    const l = clamp4(nearest4(f32x4.mul(iscale, xi)), -nmax, nmax - 1);
    v128.store(LT + (<usize>i << 4), l);
    const fl = f32x4.convert_i32x4_s(l);
    const w = f32x4.mul(xi, xi), wx = f32x4.mul(w, xi);
    v128.store(WT + (<usize>i << 4), w); // w = x*x and w*x are reused by every refinement pass
    v128.store(WXT + (<usize>i << 4), wx);
    sumlx = f32x4.add(sumlx, f32x4.mul(wx, fl));
    suml2 = f32x4.add(suml2, f32x4.mul(f32x4.mul(w, fl), fl));
  }
  let active = i32x4.splat(-1);
  for (let itry = 0; itry < 5; itry++) {
    let changed = i32x4.splat(0);
    for (let i = 0; i < n; i++) {
      const p = LT + (<usize>i << 4);
      const xi = at(XT, i), li = v128.load(p);
      const w = at(WT, i), wx = at(WXT, i), fli = f32x4.convert_i32x4_s(li);
      let slx = f32x4.sub(sumlx, f32x4.mul(wx, fli));
      let sl2 = f32x4.sub(suml2, f32x4.mul(f32x4.mul(w, fli), fli));
      const nl = clamp4(nearest4(f32x4.div(f32x4.mul(xi, sl2), slx)), -nmax, nmax - 1);
      const fnl = f32x4.convert_i32x4_s(nl);
      const ok = v128.and(f32x4.gt(slx, zero), v128.and(active, i32x4.ne(nl, li)));
      slx = f32x4.add(slx, f32x4.mul(wx, fnl));
      sl2 = f32x4.add(sl2, f32x4.mul(f32x4.mul(w, fnl), fnl));
      const better = v128.and(f32x4.gt(sl2, zero),
        f32x4.gt(f32x4.mul(f32x4.mul(slx, slx), suml2), f32x4.mul(f32x4.mul(sumlx, sumlx), sl2)));
      const take = v128.and(ok, better);
      v128.store(p, v128.bitselect(nl, li, take));
      sumlx = v128.bitselect(slx, sumlx, take);
      suml2 = v128.bitselect(sl2, suml2, take);
      changed = v128.or(changed, take);
    }
    active = v128.and(active, changed);
    if (!v128.any_true(active)) break;
  }
  const off = i32x4.splat(nmax);
  for (let i = 0; i < n; i++) {
    const p = LT + (<usize>i << 4);
    v128.store(p, v128.bitselect(zero, i32x4.add(v128.load(p), off), tiny));
  }
  const scale = v128.bitselect(f32x4.div(sumlx, suml2), zero, f32x4.gt(suml2, zero));
  v128.store(RES, v128.bitselect(zero, scale, tiny));
}
