// make_qkx2_quants (ggml-quants.c) for two independent quads of sub-blocks at once, "A" and "B",
// each quad one sub-block per SIMD lane as in kquant-search4.ts. The two quads share nothing; they
// are interleaved only so that the CPU has two independent chains of strictly ordered sums to work
// on (every per-lane sequence is still exactly the scalar C sequence of its sub-block).
//
// Inputs: XA/WA and XB/WB (transposed x and weights, simd.ts transpose4). Outputs: scales and
// the_min in RES8 = [scaleA, theMinA, scaleB, theMinB]; the codes only on request, from the
// winners kept in WIN8: winnerCodes8 writes them to LA/LB (i32 lanes). Q4_K/Q5_K need them only
// for the rare sub-blocks whose final scale is 0, and recompute those alone (kquants.ts).
import { nearest4, clamp4 } from './simd';
import { XT, WT, LT } from './kquant-search4';

export const XA = XT, WA = WT, LA = LT;
export const XB = memory.data(32 * 16, 16);
export const WB = memory.data(32 * 16, 16);
export const LB = memory.data(32 * 16, 16);
export const RES8 = memory.data(64, 16);
/**
 * What the last makeQkx2Quants8's codes are recomputed from, per lane: the winning iscale (16
 * bytes), the min it was applied to (16), the flat mask (16), for quad A then quad B. C recomputes
 * nothing here but its codes equal clamp(nearest_int(iscale·(x − min)), 0, nmax) of the winner.
 */
export const WIN8 = memory.data(96, 16);
const AUXA = memory.data(32 * 16, 16), AUXB = memory.data(32 * 16, 16);

// @ts-ignore: decorator
@inline function at(p: usize, i: i32): v128 { return v128.load(p + (<usize>i << 4)); }
// @ts-ignore: decorator
@inline function put(p: usize, i: i32, v: v128): void { v128.store(p + (<usize>i << 4), v); }

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

/** nearest_int(iscale·(x − min)) clamped to 0..nmax, by the magic-number emulation (exact for any input). */
// @ts-ignore: decorator
@inline function codeInt(x: v128, min: v128, iscale: v128, nmax: i32): v128 {
  return f32x4.convert_i32x4_s(clamp4(nearest4(f32x4.mul(iscale, f32x4.sub(x, min))), 0, nmax));
}

/** The same code with f32x4.nearest, valid when floatSafe holds; pmax(0, v) turns -0 into +0. */
// @ts-ignore: decorator
@inline function codeFloat(x: v128, min: v128, iscale: v128, nmaxF: v128): v128 {
  return f32x4.pmin(f32x4.pmax(f32x4.splat(0), f32x4.nearest(f32x4.mul(iscale, f32x4.sub(x, min)))), nmaxF);
}

// @ts-ignore: decorator
@inline export function makeQkx2Quants8(n: i32, nmax: i32, rmin: f32, rdelta: f32, nstep: i32, useMad: bool): void {
  const zero = f32x4.splat(0), inf = f32x4.splat(f32.POSITIVE_INFINITY), nmaxF = f32x4.splat(<f32>nmax);
  // ---- per-quad statistics, in C order
  let minA = at(XA, 0), maxA = minA, sumWA = at(WA, 0), sumXA = f32x4.mul(sumWA, minA);
  let minB = at(XB, 0), maxB = minB, sumWB = at(WB, 0), sumXB = f32x4.mul(sumWB, minB);
  let finA = f32x4.lt(f32x4.abs(minA), inf), finB = f32x4.lt(f32x4.abs(minB), inf);
  for (let i = 1; i < n; i++) {
    const xa = at(XA, i), wa = at(WA, i), xb = at(XB, i), wb = at(WB, i);
    minA = f32x4.pmin(minA, xa); maxA = f32x4.pmax(maxA, xa);
    minB = f32x4.pmin(minB, xb); maxB = f32x4.pmax(maxB, xb);
    sumWA = f32x4.add(sumWA, wa); sumXA = f32x4.add(sumXA, f32x4.mul(wa, xa));
    sumWB = f32x4.add(sumWB, wb); sumXB = f32x4.add(sumXB, f32x4.mul(wb, xb));
    finA = v128.and(finA, f32x4.lt(f32x4.abs(xa), inf));
    finB = v128.and(finB, f32x4.lt(f32x4.abs(xb), inf));
  }
  const dataMinA = minA, dataMaxA = maxA, dataMinB = minB, dataMaxB = maxB;
  const allFinA = i32x4.all_true(finA), allFinB = i32x4.all_true(finB);
  minA = f32x4.pmin(minA, zero); minB = f32x4.pmin(minB, zero); // if (min > 0) min = 0
  const flatA = f32x4.eq(maxA, minA), flatB = f32x4.eq(maxB, minB);
  const flatMinA = minA, flatMinB = minB;
  // ---- the first guess: iscale = nmax / (max - min)
  const iscA = f32x4.div(nmaxF, f32x4.sub(maxA, minA)), iscB = f32x4.div(nmaxF, f32x4.sub(maxB, minB));
  let scaleA = f32x4.div(f32x4.splat(1), iscA), scaleB = f32x4.div(f32x4.splat(1), iscB);
  // The codes L are not copied on every win: a lane's winning codes are fully determined by the
  // iscale and the min they were computed with, so only those two are kept (WIN8), and the codes
  // are recomputed once by winnerCodes8, or not at all where the caller overwrites them.
  let winIscA = iscA, winMinA = minA, winIscB = iscB, winMinB = minB;
  let bestA = zero, bestB = zero;
  for (let i = 0; i < n; i++) {
    const xa = at(XA, i), xb = at(XB, i);
    const la = codeInt(xa, minA, iscA, nmax), lb = codeInt(xb, minB, iscB, nmax);
    let da = f32x4.sub(f32x4.add(f32x4.mul(scaleA, la), minA), xa);
    let db = f32x4.sub(f32x4.add(f32x4.mul(scaleB, lb), minB), xb);
    da = useMad ? f32x4.abs(da) : f32x4.mul(da, da);
    db = useMad ? f32x4.abs(db) : f32x4.mul(db, db);
    bestA = f32x4.add(bestA, f32x4.mul(at(WA, i), da));
    bestB = f32x4.add(bestB, f32x4.mul(at(WB, i), db));
  }
  // ---- the candidates
  // `min` may have been replaced by an earlier candidate's; C reuses the variable in the next
  // iscale too. That division is done ahead for both outcomes (min kept, or the candidate's min),
  // so its latency overlaps the error sums instead of following the choice.
  const c0 = f32x4.splat(rmin + rdelta * <f32>0 + <f32>nmax);
  let iA = f32x4.div(c0, f32x4.sub(maxA, minA)), iB = f32x4.div(c0, f32x4.sub(maxB, minB));
  for (let is = 0; is <= nstep; is++) {
    let slA = zero, sl2A = zero, sxlA = zero, slB = zero, sl2B = zero, sxlB = zero;
    // Codes and their sums in one pass (x − min on the fly); float codes when both quads allow.
    if (floatSafe(allFinA, iA, dataMinA, dataMaxA, minA, flatA) && floatSafe(allFinB, iB, dataMinB, dataMaxB, minB, flatB)) {
      for (let i = 0; i < n; i++) {
        const xa = at(XA, i), xb = at(XB, i);
        const la = codeFloat(xa, minA, iA, nmaxF), lb = codeFloat(xb, minB, iB, nmaxF);
        put(AUXA, i, la); put(AUXB, i, lb);
        const wla = f32x4.mul(at(WA, i), la), wlb = f32x4.mul(at(WB, i), lb);
        slA = f32x4.add(slA, wla); slB = f32x4.add(slB, wlb);
        sl2A = f32x4.add(sl2A, f32x4.mul(wla, la)); sl2B = f32x4.add(sl2B, f32x4.mul(wlb, lb));
        sxlA = f32x4.add(sxlA, f32x4.mul(wla, xa)); sxlB = f32x4.add(sxlB, f32x4.mul(wlb, xb));
      }
    } else {
      for (let i = 0; i < n; i++) {
        const xa = at(XA, i), xb = at(XB, i);
        const la = codeInt(xa, minA, iA, nmax), lb = codeInt(xb, minB, iB, nmax);
        put(AUXA, i, la); put(AUXB, i, lb);
        const wla = f32x4.mul(at(WA, i), la), wlb = f32x4.mul(at(WB, i), lb);
        slA = f32x4.add(slA, wla); slB = f32x4.add(slB, wlb);
        sl2A = f32x4.add(sl2A, f32x4.mul(wla, la)); sl2B = f32x4.add(sl2B, f32x4.mul(wlb, lb));
        sxlA = f32x4.add(sxlA, f32x4.mul(wla, xa)); sxlB = f32x4.add(sxlB, f32x4.mul(wlb, xb));
      }
    }
    const DA = f32x4.sub(f32x4.mul(sumWA, sl2A), f32x4.mul(slA, slA));
    const DB = f32x4.sub(f32x4.mul(sumWB, sl2B), f32x4.mul(slB, slB));
    const dPosA = f32x4.gt(DA, zero), dPosB = f32x4.gt(DB, zero);
    const cNext = f32x4.splat(rmin + rdelta * <f32>(is + 1) + <f32>nmax);
    const keepIA = f32x4.div(cNext, f32x4.sub(maxA, minA)), keepIB = f32x4.div(cNext, f32x4.sub(maxB, minB));
    if (!v128.any_true(v128.or(dPosA, dPosB))) { iA = keepIA; iB = keepIB; continue; }
    let tsA = f32x4.div(f32x4.sub(f32x4.mul(sumWA, sxlA), f32x4.mul(sumXA, slA)), DA);
    let tmA = f32x4.div(f32x4.sub(f32x4.mul(sl2A, sumXA), f32x4.mul(slA, sxlA)), DA);
    let tsB = f32x4.div(f32x4.sub(f32x4.mul(sumWB, sxlB), f32x4.mul(sumXB, slB)), DB);
    let tmB = f32x4.div(f32x4.sub(f32x4.mul(sl2B, sumXB), f32x4.mul(slB, sxlB)), DB);
    const posA = f32x4.gt(tmA, zero), posB = f32x4.gt(tmB, zero);
    tmA = v128.bitselect(zero, tmA, posA); tsA = v128.bitselect(f32x4.div(sxlA, sl2A), tsA, posA);
    tmB = v128.bitselect(zero, tmB, posB); tsB = v128.bitselect(f32x4.div(sxlB, sl2B), tsB, posB);
    const takeIA = f32x4.div(cNext, f32x4.sub(maxA, tmA)), takeIB = f32x4.div(cNext, f32x4.sub(maxB, tmB));
    let curA = zero, curB = zero;
    for (let i = 0; i < n; i++) {
      let da = f32x4.sub(f32x4.add(f32x4.mul(tsA, at(AUXA, i)), tmA), at(XA, i));
      let db = f32x4.sub(f32x4.add(f32x4.mul(tsB, at(AUXB, i)), tmB), at(XB, i));
      da = useMad ? f32x4.abs(da) : f32x4.mul(da, da);
      db = useMad ? f32x4.abs(db) : f32x4.mul(db, db);
      curA = f32x4.add(curA, f32x4.mul(at(WA, i), da));
      curB = f32x4.add(curB, f32x4.mul(at(WB, i), db));
    }
    const takeA = v128.and(dPosA, f32x4.lt(curA, bestA));
    winIscA = v128.bitselect(iA, winIscA, takeA); winMinA = v128.bitselect(minA, winMinA, takeA);
    bestA = v128.bitselect(curA, bestA, takeA);
    scaleA = v128.bitselect(tsA, scaleA, takeA);
    minA = v128.bitselect(tmA, minA, takeA);
    const takeB = v128.and(dPosB, f32x4.lt(curB, bestB));
    winIscB = v128.bitselect(iB, winIscB, takeB); winMinB = v128.bitselect(minB, winMinB, takeB);
    bestB = v128.bitselect(curB, bestB, takeB);
    scaleB = v128.bitselect(tsB, scaleB, takeB);
    minB = v128.bitselect(tmB, minB, takeB);
    iA = v128.bitselect(takeIA, keepIA, takeA); iB = v128.bitselect(takeIB, keepIB, takeB);
  }
  // ---- finish: flat sub-blocks return L = 0, scale 0, the_min = -min. The codes are left to
  // winnerCodes8 (or to the caller, for the few sub-blocks whose codes it keeps).
  v128.store(WIN8, winIscA); v128.store(WIN8, winMinA, 16); v128.store(WIN8, flatA, 32);
  v128.store(WIN8, winIscB, 48); v128.store(WIN8, winMinB, 64); v128.store(WIN8, flatB, 80);
  v128.store(RES8, v128.bitselect(zero, scaleA, flatA));
  v128.store(RES8, f32x4.neg(v128.bitselect(flatMinA, minA, flatA)), 16);
  v128.store(RES8, v128.bitselect(zero, scaleB, flatB), 32);
  v128.store(RES8, f32x4.neg(v128.bitselect(flatMinB, minB, flatB)), 48);
}

/** The codes of the last makeQkx2Quants8 (n elements per sub-block) into LA/LB as i32 lanes; 0 in flat lanes. */
export function winnerCodes8(n: i32, nmax: i32): void {
  const zero = f32x4.splat(0);
  const iscA = v128.load(WIN8), minA = v128.load(WIN8, 16), flatA = v128.load(WIN8, 32);
  const iscB = v128.load(WIN8, 48), minB = v128.load(WIN8, 64), flatB = v128.load(WIN8, 80);
  for (let i = 0; i < n; i++) {
    const la = clamp4(nearest4(f32x4.mul(iscA, f32x4.sub(at(XA, i), minA))), 0, nmax);
    const lb = clamp4(nearest4(f32x4.mul(iscB, f32x4.sub(at(XB, i), minB))), 0, nmax);
    put(LA, i, v128.bitselect(zero, la, flatA));
    put(LB, i, v128.bitselect(zero, lb, flatB));
  }
}

const WXA = memory.data(32 * 16, 16), WXB = memory.data(32 * 16, 16);

/**
 * make_q3_quants(n, nmax, x, L, do_rmse=true) for quads A and B (codes l + nmax in LA/LB, scales
 * in RES8[0..3] and RES8[8..11]). Its refinement updates the running sums element by element, a
 * serial chain per lane; interleaving two quads gives the CPU a second, independent chain. Each
 * lane stops, like C's `break`, after its first pass without a change.
 */
export function makeQ3Quants8(n: i32, nmax: i32): void {
  const zero = f32x4.splat(0);
  let maxA = zero, amaxA = zero, maxB = zero, amaxB = zero;
  for (let i = 0; i < n; i++) {
    const xa = at(XA, i), xb = at(XB, i), aa = f32x4.abs(xa), ab = f32x4.abs(xb);
    const ga = f32x4.gt(aa, amaxA), gb = f32x4.gt(ab, amaxB); // if (ax > amax) { amax = ax; max = x }
    amaxA = v128.bitselect(aa, amaxA, ga); maxA = v128.bitselect(xa, maxA, ga);
    amaxB = v128.bitselect(ab, amaxB, gb); maxB = v128.bitselect(xb, maxB, gb);
  }
  const eps = f32x4.splat(<f32>1e-15);
  const tinyA = f32x4.lt(amaxA, eps), tinyB = f32x4.lt(amaxB, eps); // these lanes return L = 0, scale 0
  const iA = f32x4.div(f32x4.splat(<f32>-nmax), maxA), iB = f32x4.div(f32x4.splat(<f32>-nmax), maxB);
  let lxA = zero, l2A = zero, lxB = zero, l2B = zero;
  for (let i = 0; i < n; i++) {
    const xa = at(XA, i), xb = at(XB, i);
    const la = clamp4(nearest4(f32x4.mul(iA, xa)), -nmax, nmax - 1);
    const lb = clamp4(nearest4(f32x4.mul(iB, xb)), -nmax, nmax - 1);
    put(LA, i, la); put(LB, i, lb);
    const fa = f32x4.convert_i32x4_s(la), fb = f32x4.convert_i32x4_s(lb);
    const wa = f32x4.mul(xa, xa), wb = f32x4.mul(xb, xb), wxa = f32x4.mul(wa, xa), wxb = f32x4.mul(wb, xb);
    put(WA, i, wa); put(WB, i, wb); put(WXA, i, wxa); put(WXB, i, wxb); // reused by every pass
    lxA = f32x4.add(lxA, f32x4.mul(wxa, fa)); lxB = f32x4.add(lxB, f32x4.mul(wxb, fb));
    l2A = f32x4.add(l2A, f32x4.mul(f32x4.mul(wa, fa), fa)); l2B = f32x4.add(l2B, f32x4.mul(f32x4.mul(wb, fb), fb));
  }
  let activeA = i32x4.splat(-1), activeB = i32x4.splat(-1);
  for (let itry = 0; itry < 5; itry++) {
    let chA = i32x4.splat(0), chB = i32x4.splat(0);
    for (let i = 0; i < n; i++) {
      const xa = at(XA, i), xb = at(XB, i), la = at(LA, i), lb = at(LB, i);
      const wa = at(WA, i), wb = at(WB, i), wxa = at(WXA, i), wxb = at(WXB, i);
      const fa = f32x4.convert_i32x4_s(la), fb = f32x4.convert_i32x4_s(lb);
      let sxA = f32x4.sub(lxA, f32x4.mul(wxa, fa)), sxB = f32x4.sub(lxB, f32x4.mul(wxb, fb));
      let s2A = f32x4.sub(l2A, f32x4.mul(f32x4.mul(wa, fa), fa)), s2B = f32x4.sub(l2B, f32x4.mul(f32x4.mul(wb, fb), fb));
      const na = clamp4(nearest4(f32x4.div(f32x4.mul(xa, s2A), sxA)), -nmax, nmax - 1);
      const nb = clamp4(nearest4(f32x4.div(f32x4.mul(xb, s2B), sxB)), -nmax, nmax - 1);
      const okA = v128.and(f32x4.gt(sxA, zero), v128.and(activeA, i32x4.ne(na, la)));
      const okB = v128.and(f32x4.gt(sxB, zero), v128.and(activeB, i32x4.ne(nb, lb)));
      const fna = f32x4.convert_i32x4_s(na), fnb = f32x4.convert_i32x4_s(nb);
      sxA = f32x4.add(sxA, f32x4.mul(wxa, fna)); sxB = f32x4.add(sxB, f32x4.mul(wxb, fnb));
      s2A = f32x4.add(s2A, f32x4.mul(f32x4.mul(wa, fna), fna)); s2B = f32x4.add(s2B, f32x4.mul(f32x4.mul(wb, fnb), fnb));
      const takeA = v128.and(okA, v128.and(f32x4.gt(s2A, zero),
        f32x4.gt(f32x4.mul(f32x4.mul(sxA, sxA), l2A), f32x4.mul(f32x4.mul(lxA, lxA), s2A))));
      const takeB = v128.and(okB, v128.and(f32x4.gt(s2B, zero),
        f32x4.gt(f32x4.mul(f32x4.mul(sxB, sxB), l2B), f32x4.mul(f32x4.mul(lxB, lxB), s2B))));
      put(LA, i, v128.bitselect(na, la, takeA)); put(LB, i, v128.bitselect(nb, lb, takeB));
      lxA = v128.bitselect(sxA, lxA, takeA); l2A = v128.bitselect(s2A, l2A, takeA);
      lxB = v128.bitselect(sxB, lxB, takeB); l2B = v128.bitselect(s2B, l2B, takeB);
      chA = v128.or(chA, takeA); chB = v128.or(chB, takeB);
    }
    activeA = v128.and(activeA, chA); activeB = v128.and(activeB, chB);
    if (!v128.any_true(v128.or(activeA, activeB))) break;
  }
  const off = i32x4.splat(nmax);
  for (let i = 0; i < n; i++) {
    put(LA, i, v128.bitselect(zero, i32x4.add(at(LA, i), off), tinyA));
    put(LB, i, v128.bitselect(zero, i32x4.add(at(LB, i), off), tinyB));
  }
  v128.store(RES8, v128.bitselect(zero, v128.bitselect(f32x4.div(lxA, l2A), zero, f32x4.gt(l2A, zero)), tinyA));
  v128.store(RES8, v128.bitselect(zero, v128.bitselect(f32x4.div(lxB, l2B), zero, f32x4.gt(l2B, zero)), tinyB), 32);
}
