// The scale searches of the K-quants, scalar: ports of ggml-quants.c `make_qkx2_quants`,
// `make_qx_quants` (rmse_type 1, no weights) and `make_q3_quants` (do_rmse). Evaluation order is
// kept exactly (sums left to right, `w*l*x` as `(w*l)*x`) because the comparisons depend on it.
import { nearestInt } from './numeric';

// @ts-ignore: decorator
@inline function ld(p: usize, j: i32): f32 { return load<f32>(p + (<usize>j << 2)); }

/** make_qkx2_quants's second result (`*the_min`). */
export let theMin: f32 = 0;

/** L (u8 codes) for n elements of x with weights w; Laux is n bytes of scratch. Returns scale. */
export function makeQkx2Quants(n: i32, nmax: i32, x: usize, w: usize, L: usize, Laux: usize,
                               rmin: f32, rdelta: f32, nstep: i32, useMad: bool): f32 {
  let min = ld(x, 0), max = ld(x, 0);
  let sumW = ld(w, 0);
  let sumX: f32 = sumW * ld(x, 0);
  for (let i = 1; i < n; i++) {
    const xi = ld(x, i);
    if (xi < min) min = xi;
    if (xi > max) max = xi;
    const wi = ld(w, i);
    sumW += wi;
    sumX += wi * xi;
  }
  if (min > 0) min = 0;
  if (max == min) {
    for (let i = 0; i < n; i++) store<u8>(L + i, 0);
    theMin = -min;
    return 0;
  }
  const fnmax = <f32>nmax;
  let iscale: f32 = fnmax / (max - min);
  let scale: f32 = <f32>1 / iscale;
  let best: f32 = 0;
  for (let i = 0; i < n; i++) {
    const xi = ld(x, i);
    let l = nearestInt(iscale * (xi - min));
    l = l > nmax ? nmax : l; l = l < 0 ? 0 : l;
    store<u8>(L + i, <u8>l);
    let diff: f32 = scale * <f32>l + min - xi;
    diff = useMad ? abs<f32>(diff) : diff * diff;
    best += ld(w, i) * diff;
  }
  if (nstep < 1) { theMin = -min; return scale; }
  for (let is = 0; is <= nstep; is++) {
    iscale = (rmin + rdelta * <f32>is + fnmax) / (max - min);
    let sl: f32 = 0, sl2: f32 = 0, sxl: f32 = 0;
    for (let i = 0; i < n; i++) {
      const xi = ld(x, i);
      let l = nearestInt(iscale * (xi - min));
      l = l > nmax ? nmax : l; l = l < 0 ? 0 : l;
      store<u8>(Laux + i, <u8>l);
      const wi = ld(w, i), fl = <f32>l;
      sl += wi * fl;
      sl2 += wi * fl * fl;
      sxl += wi * fl * xi;
    }
    const D: f32 = sumW * sl2 - sl * sl;
    if (D > 0) {
      let ts: f32 = (sumW * sxl - sumX * sl) / D;
      let tm: f32 = (sl2 * sumX - sl * sxl) / D;
      if (tm > 0) { tm = 0; ts = sxl / sl2; }
      let cur: f32 = 0;
      for (let i = 0; i < n; i++) {
        let diff: f32 = ts * <f32>load<u8>(Laux + i) + tm - ld(x, i);
        diff = useMad ? abs<f32>(diff) : diff * diff;
        cur += ld(w, i) * diff;
      }
      if (cur < best) {
        memory.copy(L, Laux, n);
        best = cur; scale = ts; min = tm;
      }
    }
  }
  theMin = -min;
  return scale;
}

const GROUP_MAX_EPS: f32 = 1e-15;

// @ts-ignore: decorator
@inline function clampSigned(l: i32, nmax: i32): i32 {
  l = nmax - 1 < l ? nmax - 1 : l;
  return -nmax > l ? -nmax : l;
}

/** make_qx_quants(n, nmax, x, L, rmse_type=1, qw=NULL). L gets l+nmax as int8. */
export function makeQxQuants(n: i32, nmax: i32, x: usize, L: usize): f32 {
  let max: f32 = 0, amax: f32 = 0;
  for (let i = 0; i < n; i++) {
    const ax = abs<f32>(ld(x, i));
    if (ax > amax) { amax = ax; max = ld(x, i); }
  }
  if (amax < GROUP_MAX_EPS) {
    for (let i = 0; i < n; i++) store<u8>(L + i, 0);
    return 0;
  }
  let iscale: f32 = <f32>-nmax / max;
  let sumlx: f32 = 0, suml2: f32 = 0;
  for (let i = 0; i < n; i++) {
    const xi = ld(x, i);
    const l = clampSigned(nearestInt(iscale * xi), nmax);
    store<u8>(L + i, <u8>(l + nmax));
    const w: f32 = xi * xi, fl = <f32>l;
    sumlx += w * xi * fl;
    suml2 += w * fl * fl;
  }
  let scale: f32 = suml2 != 0 ? sumlx / suml2 : 0;
  let best: f32 = scale * sumlx;
  for (let is = -9; is <= 9; is++) {
    if (is == 0) continue;
    iscale = -(<f32>nmax + <f32>0.1 * <f32>is) / max;
    sumlx = 0; suml2 = 0;
    for (let i = 0; i < n; i++) {
      const xi = ld(x, i);
      const fl = <f32>clampSigned(nearestInt(iscale * xi), nmax);
      const w: f32 = xi * xi;
      sumlx += w * xi * fl;
      suml2 += w * fl * fl;
    }
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      for (let i = 0; i < n; i++) store<u8>(L + i, <u8>(nmax + clampSigned(nearestInt(iscale * ld(x, i)), nmax)));
      scale = sumlx / suml2; best = scale * sumlx;
    }
  }
  return scale;
}

/** make_q3_quants(n, nmax, x, L, do_rmse=true). L gets l+nmax. */
export function makeQ3Quants(n: i32, nmax: i32, x: usize, L: usize): f32 {
  let max: f32 = 0, amax: f32 = 0;
  for (let i = 0; i < n; i++) {
    const ax = abs<f32>(ld(x, i));
    if (ax > amax) { amax = ax; max = ld(x, i); }
  }
  if (amax < GROUP_MAX_EPS) {
    for (let i = 0; i < n; i++) store<u8>(L + i, 0);
    return 0;
  }
  const iscale: f32 = <f32>-nmax / max;
  let sumlx: f32 = 0, suml2: f32 = 0;
  for (let i = 0; i < n; i++) {
    const xi = ld(x, i);
    const l = clampSigned(nearestInt(iscale * xi), nmax);
    store<i8>(L + i, <i8>l);
    const w: f32 = xi * xi, fl = <f32>l;
    sumlx += w * xi * fl;
    suml2 += w * fl * fl;
  }
  for (let itry = 0; itry < 5; itry++) {
    let changed = 0;
    for (let i = 0; i < n; i++) {
      const xi = ld(x, i);
      const w: f32 = xi * xi;
      const li = <f32>load<i8>(L + i);
      let slx: f32 = sumlx - w * xi * li;
      if (slx > 0) {
        let sl2: f32 = suml2 - w * li * li;
        const nl = clampSigned(nearestInt(xi * sl2 / slx), nmax);
        if (<f32>nl != li) {
          const fnl = <f32>nl;
          slx += w * xi * fnl;
          sl2 += w * fnl * fnl;
          if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
            store<i8>(L + i, <i8>nl); sumlx = slx; suml2 = sl2; changed++;
          }
        }
      }
    }
    if (changed == 0) break;
  }
  for (let i = 0; i < n; i++) store<u8>(L + i, <u8>(load<i8>(L + i) + nmax));
  return suml2 > 0 ? sumlx / suml2 : 0;
}
