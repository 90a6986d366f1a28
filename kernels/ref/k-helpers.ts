/**
 * The scale searches the K-quant reference quantizers share, ported from ggml-quants.c:
 * `make_qx_quants` (rmse_type 1, with or without weights), `make_q3_quants` (do_rmse), `make_qkx2_quants`, and
 * the 6-bit scale/min packing of Q4_K/Q5_K (`get_scale_min_k4`). Every float op is binary32 (`F`),
 * in C evaluation order: the searches compare sums, so one ulp changes the chosen codes.
 *
 * They read `n` inputs from `x[xOff..]` and write integer codes to `L[lOff..]` (an Int32Array, which
 * holds both the signed and the offset codes the C code keeps in int8_t/uint8_t arrays).
 */
import { F, nearestInt, clampInt } from './rounding.ts';

const GROUP_MAX_EPS = F(1e-15);
const F0_1 = F(0.1);

/**
 * The value of largest magnitude, sign kept; the first of equal magnitudes wins (strict `>`), as
 * the max/amax scan that opens make_qx_quants and make_q3_quants does.
 */
function signedExtreme(n: number, x: Float32Array | Float64Array, xOff: number): number {
  let max = 0, amax = 0;
  for (let i = 0; i < n; i++) {
    const v = x[xOff + i]!;
    const ax = Math.abs(v);
    if (ax > amax) { amax = ax; max = v; }
  }
  return max;
}

/** make_qx_quants scratch: the weights w (x² or qw) and w·x, the same for every candidate scale. */
const qxW = new Float64Array(32);
const qxWX = new Float64Array(32);

/**
 * `make_qx_quants(n, nmax, x, L, rmse_type = 1, qw)`: with `qw` (the imatrix-derived weights of the
 * `quantize_row_*_impl` callers) each element's weight is qw[qwOff + i]; without (qw = NULL), x².
 * L gets l + nmax ∈ [0, 2·nmax).
 */
export function makeQxQuants(
  n: number, nmax: number, x: Float32Array | Float64Array, xOff: number, L: Int32Array, lOff: number,
  qw: Float32Array | Float64Array | undefined, qwOff: number,
): number {
  const max = signedExtreme(n, x, xOff);
  if (Math.abs(max) < GROUP_MAX_EPS) {
    for (let i = 0; i < n; i++) L[lOff + i] = 0;
    return 0;
  }
  for (let i = 0; i < n; i++) {
    const v = x[xOff + i]!;
    const w = qw ? qw[qwOff + i]! : F(v * v);
    qxW[i] = w;
    qxWX[i] = F(w * v); // C computes w*x[i]*l as (w*x)*l, so this product is shared by all candidates
  }
  let iscale = F(-nmax / max);
  let sumlx = 0, suml2 = 0;
  for (let i = 0; i < n; i++) {
    let l = nearestInt(F(iscale * x[xOff + i]!));
    l = clampInt(l, -nmax, nmax - 1);
    L[lOff + i] = l + nmax;
    sumlx = F(sumlx + F(qxWX[i]! * l));
    suml2 = F(suml2 + F(F(qxW[i]! * l) * l));
  }
  let scale = suml2 !== 0 ? F(sumlx / suml2) : 0;
  let best = F(scale * sumlx);
  for (let is = -9; is <= 9; is++) {
    if (is === 0) continue;
    iscale = F(-F(nmax + F(F0_1 * is)) / max);
    sumlx = 0; suml2 = 0;
    for (let i = 0; i < n; i++) {
      let l = nearestInt(F(iscale * x[xOff + i]!));
      l = clampInt(l, -nmax, nmax - 1);
      sumlx = F(sumlx + F(qxWX[i]! * l));
      suml2 = F(suml2 + F(F(qxW[i]! * l) * l));
    }
    if (suml2 > 0 && F(sumlx * sumlx) > F(best * suml2)) {
      for (let i = 0; i < n; i++) {
        const l = nearestInt(F(iscale * x[xOff + i]!));
        L[lOff + i] = nmax + clampInt(l, -nmax, nmax - 1);
      }
      scale = F(sumlx / suml2);
      best = F(scale * sumlx);
    }
  }
  return scale;
}

/** `make_q3_quants(n, nmax, x, L, do_rmse = true)`; L gets l + nmax, or 0s for an all-zero group. */
export function makeQ3Quants(n: number, nmax: number, x: Float32Array, xOff: number, L: Int32Array, lOff: number): number {
  const max = signedExtreme(n, x, xOff);
  if (Math.abs(max) < GROUP_MAX_EPS) {
    for (let i = 0; i < n; i++) L[lOff + i] = 0;
    return 0;
  }
  const iscale = F(-nmax / max);
  let sumlx = 0, suml2 = 0;
  for (let i = 0; i < n; i++) {
    const v = x[xOff + i]!;
    let l = nearestInt(F(iscale * v));
    l = clampInt(l, -nmax, nmax - 1);
    L[lOff + i] = l;
    const w = F(v * v);
    sumlx = F(sumlx + F(F(w * v) * l));
    suml2 = F(suml2 + F(F(w * l) * l));
  }
  for (let itry = 0; itry < 5; itry++) {
    let changed = 0;
    for (let i = 0; i < n; i++) {
      const v = x[xOff + i]!;
      const Li = L[lOff + i]!;
      const w = F(v * v);
      let slx = F(sumlx - F(F(w * v) * Li));
      if (slx > 0) {
        let sl2 = F(suml2 - F(F(w * Li) * Li));
        let nl = nearestInt(F(F(v * sl2) / slx));
        nl = clampInt(nl, -nmax, nmax - 1);
        if (nl !== Li) {
          slx = F(slx + F(F(w * v) * nl));
          sl2 = F(sl2 + F(F(w * nl) * nl));
          if (sl2 > 0 && F(F(slx * slx) * suml2) > F(F(sumlx * sumlx) * sl2)) {
            L[lOff + i] = nl; sumlx = slx; suml2 = sl2;
            changed++;
          }
        }
      }
    }
    if (changed === 0) break;
  }
  for (let i = 0; i < n; i++) L[lOff + i] = L[lOff + i]! + nmax;
  return suml2 > 0 ? F(sumlx / suml2) : 0;
}

/**
 * `make_qkx2_quants(n, nmax, x, weights, L, &the_min, Laux, rmin, rdelta, nstep, use_mad)`.
 * Returns the scale; the_min (= −min ≥ 0) goes to `minOut[minIdx]`. `w` holds the binary32 weights.
 */
export function makeQkx2Quants(
  n: number, nmax: number, x: Float32Array, xOff: number, w: Float64Array, L: Int32Array, lOff: number,
  Laux: Int32Array, rmin: number, rdelta: number, nstep: number, useMad: boolean, minOut: Float64Array, minIdx: number,
): number {
  let min = x[xOff]!, max = min;
  let sumW = w[0]!;
  let sumX = F(sumW * min);
  for (let i = 1; i < n; i++) {
    const v = x[xOff + i]!;
    if (v < min) min = v;
    if (v > max) max = v;
    const wi = w[i]!;
    sumW = F(sumW + wi);
    sumX = F(sumX + F(wi * v));
  }
  if (min > 0) min = 0;
  if (max === min) {
    for (let i = 0; i < n; i++) L[lOff + i] = 0;
    minOut[minIdx] = -min;
    return 0;
  }
  let iscale = F(nmax / F(max - min));
  let scale = F(1 / iscale);
  let best = 0;
  for (let i = 0; i < n; i++) {
    const v = x[xOff + i]!;
    const l = nearestInt(F(iscale * F(v - min)));
    const q = clampInt(l, 0, nmax);
    L[lOff + i] = q;
    let diff = F(F(F(scale * q) + min) - v);
    diff = useMad ? Math.abs(diff) : F(diff * diff);
    best = F(best + F(w[i]! * diff));
  }
  if (nstep < 1) {
    minOut[minIdx] = -min;
    return scale;
  }
  // `min` moves to each better candidate's min, and later steps search around it (C does the same).
  for (let is = 0; is <= nstep; is++) {
    iscale = F(F(F(rmin + F(rdelta * is)) + nmax) / F(max - min));
    let sl = 0, sl2 = 0, sxl = 0;
    // A candidate's fit and error depend only on its codes, and `best` never increases, so codes
    // identical to the previous step's cannot win now: skipping them does not change the result.
    let same = is > 0;
    for (let i = 0; i < n; i++) {
      const v = x[xOff + i]!;
      const l = nearestInt(F(iscale * F(v - min)));
      const q = clampInt(l, 0, nmax);
      if (same && Laux[i] !== q) same = false;
      Laux[i] = q;
      const wl = F(w[i]! * q);
      sl = F(sl + wl);
      sl2 = F(sl2 + F(wl * q));
      sxl = F(sxl + F(wl * v));
    }
    if (same) continue;
    const D = F(F(sumW * sl2) - F(sl * sl));
    if (D > 0) {
      let ts = F(F(F(sumW * sxl) - F(sumX * sl)) / D);
      let tm = F(F(F(sl2 * sumX) - F(sl * sxl)) / D);
      if (tm > 0) {
        tm = 0;
        ts = F(sxl / sl2);
      }
      let cur = 0;
      for (let i = 0; i < n; i++) {
        let diff = F(F(F(ts * Laux[i]!) + tm) - x[xOff + i]!);
        diff = useMad ? Math.abs(diff) : F(diff * diff);
        cur = F(cur + F(w[i]! * diff));
      }
      if (cur < best) {
        for (let i = 0; i < n; i++) L[lOff + i] = Laux[i]!;
        best = cur;
        scale = ts;
        min = tm;
            }
    }
  }
  minOut[minIdx] = -min;
  return scale;
}

/** Packs 8 (scale, min) 6-bit pairs into the 12 K_SCALE bytes at `dst[o..o+12)` (Q4_K/Q5_K). */
export function packScaleMinK4(dst: Uint8Array, o: number, ls: Int32Array, lm: Int32Array): void {
  for (let j = 0; j < 8; j++) {
    const s = ls[j]!, m = lm[j]!;
    if (j < 4) {
      dst[o + j] = s;
      dst[o + j + 4] = m;
    } else {
      dst[o + j + 4] = (s & 15) | ((m & 15) << 4);
      dst[o + j - 4] |= (s >>> 4) << 6;
      dst[o + j] |= (m >>> 4) << 6;
    }
  }
}

/** `get_scale_min_k4(j, q)`: the 6-bit scale of sub-block j of the K_SCALE bytes at `q[o..]`. */
export function scaleK4(j: number, q: Uint8Array, o: number): number {
  return j < 4 ? q[o + j]! & 63 : (q[o + j + 4]! & 15) | ((q[o + j - 4]! >>> 6) << 4);
}

/** `get_scale_min_k4(j, q)`: the 6-bit min of sub-block j. */
export function minK4(j: number, q: Uint8Array, o: number): number {
  return j < 4 ? q[o + j + 4]! & 63 : (q[o + j + 4]! >>> 4) | ((q[o + j]! >>> 6) << 4);
}

/** Packs 256 2-bit codes (values 0..3 in L[0..256)) into 64 bytes at dst[o..]: Q2_K/Q3_K `qs`. */
export function pack2Bit(dst: Uint8Array, o: number, L: Int32Array): void {
  for (let j = 0; j < 256; j += 128) {
    for (let l = 0; l < 32; l++) {
      dst[o + j / 4 + l] = (L[j + l]! | (L[j + l + 32]! << 2) | (L[j + l + 64]! << 4) | (L[j + l + 96]! << 6)) & 255;
    }
  }
}
