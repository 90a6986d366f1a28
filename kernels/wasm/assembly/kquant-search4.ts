// Q6_K's scale search for 4 sub-blocks at once, one per SIMD lane: `make_qx_quants` (rmse_type 1,
// no weights, or given weights for the imatrix paths) from ggml-quants.c (`make_qkx2_quants` and `make_q3_quants` are in
// kquant-search8.ts, two quads at a time). Each lane runs the scalar C
// sequence for its own sub-block, in the same order; the C branches become per-lane selects, so the
// result of every lane equals the scalar C function on that sub-block.
//
// Inputs are transposed (simd.ts transpose4): XT[i] holds element i of the 4 sub-blocks, WT[i] its
// weights. Codes come back in LT (i32 lanes), scales in RES[0..3], the_min in RES[4..7].
import { nearest4, clamp4 } from './simd';

export const XT = memory.data(32 * 16, 16);
export const WT = memory.data(32 * 16, 16);
export const LT = memory.data(32 * 16, 16);
const WXT = memory.data(32 * 16, 16);
export const RES = memory.data(32, 16);

// @ts-ignore: decorator
@inline function at(p: usize, i: i32): v128 { return v128.load(p + (<usize>i << 4)); }

/** make_qx_quants(n, nmax, x, L, rmse_type=1, NULL): codes l + nmax in LT, scale in RES[0..3]. */
export function makeQxQuants4(n: i32, nmax: i32): void {
  makeQxQuants4Impl(n, nmax, false);
}

/** make_qx_quants(n, nmax, x, L, rmse_type=1, qw) with the weights qw already transposed into WT. */
export function makeQxQuants4W(n: i32, nmax: i32): void {
  makeQxQuants4Impl(n, nmax, true);
}

// @ts-ignore: decorator
@inline function makeQxQuants4Impl(n: i32, nmax: i32, weighted: bool): void {
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
  const iscale = f32x4.div(f32x4.splat(<f32>-nmax), max);
  // C recomputes a winner's codes from its iscale; here only that iscale is kept per lane, and the
  // codes are computed once at the end.
  let winIscale = iscale;
  let sumlx = zero, suml2 = zero;
  for (let i = 0; i < n; i++) {
    const xi = at(XT, i);
    const l = clamp4(nearest4(f32x4.mul(iscale, xi)), -nmax, nmax - 1);
    const fl = f32x4.convert_i32x4_s(l);
    const w = weighted ? at(WT, i) : f32x4.mul(xi, xi), wx = f32x4.mul(w, xi);
    if (!weighted) v128.store(WT + (<usize>i << 4), w);
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
        const wi = at(WT, i), wxi = at(WXT, i);
        lxA = f32x4.add(lxA, f32x4.mul(wxi, flA));
        lxB = f32x4.add(lxB, f32x4.mul(wxi, flB));
        l2A = f32x4.add(l2A, f32x4.mul(f32x4.mul(wi, flA), flA));
        l2B = f32x4.add(l2B, f32x4.mul(f32x4.mul(wi, flB), flB));
      }
    }
    const takeA = v128.and(f32x4.gt(l2A, zero), f32x4.gt(f32x4.mul(lxA, lxA), f32x4.mul(best, l2A)));
    winIscale = v128.bitselect(iscaleA, winIscale, takeA);
    scale = v128.bitselect(f32x4.div(lxA, l2A), scale, takeA);
    best = v128.bitselect(f32x4.mul(scale, lxA), best, takeA);
    const takeB = v128.and(f32x4.gt(l2B, zero), f32x4.gt(f32x4.mul(lxB, lxB), f32x4.mul(best, l2B)));
    winIscale = v128.bitselect(iscaleB, winIscale, takeB);
    scale = v128.bitselect(f32x4.div(lxB, l2B), scale, takeB);
    best = v128.bitselect(f32x4.mul(scale, lxB), best, takeB);
  }
  for (let i = 0; i < n; i++) {
    const l = clamp4(nearest4(f32x4.mul(winIscale, at(XT, i))), -nmax, nmax - 1);
    v128.store(LT + (<usize>i << 4), v128.bitselect(zero, i32x4.add(l, off), tiny));
  }
  v128.store(RES, v128.bitselect(zero, scale, tiny));
}
