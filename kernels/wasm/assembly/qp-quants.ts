// The scalar searches the imatrix K-quant paths run once per super-block on its sub-block scales
// (ggml-quants.c): `make_qp_quants` (Q2_K/Q4_K/Q5_K scales and mins) and `make_qx_quants` with
// weights (Q3_K's scales, rmse_type 1). Scalar f32 in C order: wasm f32 ops are binary32 with RNE,
// so each op is the C op. x and w are f32 arrays, L gets the C `uint8_t`/`int8_t` codes as bytes.
import { nearestInt } from './numeric';

// @ts-ignore: decorator
@inline function ld(p: usize, i: i32): f32 { return load<f32>(p + (<usize>i << 2)); }

/** `make_qp_quants(n, nmax, x, L, quant_weights)`: returns the block scale, codes 0..nmax in L. */
export function makeQpQuants(n: i32, nmax: i32, x: usize, L: usize, w: usize): f32 {
  let max: f32 = 0;
  for (let i = 0; i < n; i++) { const v = ld(x, i); max = max > v ? max : v; } // MAX(max, x[i])
  if (max < <f32>1e-15) {
    memory.fill(L, 0, n);
    return 0;
  }
  let iscale: f32 = <f32>nmax / max;
  for (let i = 0; i < n; i++) store<u8>(L + i, <u8>nearestInt(iscale * ld(x, i)));
  const scale: f32 = <f32>1 / iscale;
  let bestMse: f32 = 0;
  for (let i = 0; i < n; i++) {
    const diff: f32 = ld(x, i) - scale * <f32>load<u8>(L + i);
    bestMse += ld(w, i) * diff * diff;
  }
  for (let is = -4; is <= 4; is++) {
    if (is == 0) continue;
    const iscaleIs: f32 = (<f32>0.1 * <f32>is + <f32>nmax) / max;
    const scaleIs: f32 = <f32>1 / iscaleIs;
    let mse: f32 = 0;
    for (let i = 0; i < n; i++) {
      let l = nearestInt(iscaleIs * ld(x, i));
      if (l > nmax) l = nmax;
      const diff: f32 = ld(x, i) - scaleIs * <f32>l;
      mse += ld(w, i) * diff * diff;
    }
    if (mse < bestMse) { bestMse = mse; iscale = iscaleIs; }
  }
  let sumlx: f32 = 0, suml2: f32 = 0;
  for (let i = 0; i < n; i++) {
    let l = nearestInt(iscale * ld(x, i));
    if (l > nmax) l = nmax;
    store<u8>(L + i, <u8>l);
    const wi = ld(w, i), fl = <f32>l; // the sums take the int l, not the stored byte
    sumlx += wi * ld(x, i) * fl;
    suml2 += wi * fl * fl;
  }
  for (let itry = 0; itry < 5; itry++) {
    let changed = 0;
    for (let i = 0; i < n; i++) {
      const wi = ld(w, i), xi = ld(x, i);
      const li = <i32>load<u8>(L + i), fl = <f32>li;
      let slx: f32 = sumlx - wi * xi * fl;
      let sl2: f32 = suml2 - wi * fl * fl;
      if (slx > 0 && sl2 > 0) {
        let nl = nearestInt(xi * sl2 / slx);
        if (nl > nmax) nl = nmax;
        if (nl != li) {
          const fn: f32 = <f32>nl;
          slx += wi * xi * fn;
          sl2 += wi * fn * fn;
          if (slx * slx * suml2 > sumlx * sumlx * sl2) {
            store<u8>(L + i, <u8>nl); sumlx = slx; suml2 = sl2;
            changed++;
          }
        }
      }
    }
    if (changed == 0) break;
  }
  return suml2 > 0 ? sumlx / suml2 : 0;
}

// @ts-ignore: decorator
@inline function clampL(l: i32, nmax: i32): i32 {
  l = nmax - 1 < l ? nmax - 1 : l;
  return -nmax > l ? -nmax : l;
}

/** `make_qx_quants(n, nmax, x, L, 1, qw)` with weights w: returns the scale, codes l + nmax in L. */
export function makeQxQuantsW(n: i32, nmax: i32, x: usize, L: usize, w: usize): f32 {
  let max: f32 = 0, amax: f32 = 0;
  for (let i = 0; i < n; i++) {
    const v = ld(x, i), ax = abs<f32>(v);
    if (ax > amax) { amax = ax; max = v; }
  }
  if (amax < <f32>1e-15) {
    memory.fill(L, 0, n);
    return 0;
  }
  let iscale: f32 = <f32>-nmax / max;
  let sumlx: f32 = 0, suml2: f32 = 0;
  for (let i = 0; i < n; i++) {
    const v = ld(x, i);
    const l = clampL(nearestInt(iscale * v), nmax);
    store<u8>(L + i, <u8>(l + nmax));
    const wi = ld(w, i), fl = <f32>l;
    sumlx += wi * v * fl;
    suml2 += wi * fl * fl;
  }
  let scale: f32 = suml2 != 0 ? sumlx / suml2 : 0;
  let best: f32 = scale * sumlx;
  for (let is = -9; is <= 9; is++) {
    if (is == 0) continue;
    iscale = -(<f32>nmax + <f32>0.1 * <f32>is) / max;
    sumlx = 0; suml2 = 0;
    for (let i = 0; i < n; i++) {
      const v = ld(x, i);
      const fl = <f32>clampL(nearestInt(iscale * v), nmax);
      const wi = ld(w, i);
      sumlx += wi * v * fl;
      suml2 += wi * fl * fl;
    }
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      for (let i = 0; i < n; i++) store<u8>(L + i, <u8>(nmax + clampL(nearestInt(iscale * ld(x, i)), nmax)));
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}
