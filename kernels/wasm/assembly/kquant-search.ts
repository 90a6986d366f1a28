// Q3_K's scale search, scalar: port of ggml-quants.c `make_q3_quants` (do_rmse). Evaluation order
// is kept exactly (sums left to right, `w*x*l` as `(w*x)*l`) because the comparisons depend on it.
// The other K-quant searches run 4 sub-blocks per SIMD lane set (kquant-search4.ts).
import { nearestInt } from './numeric';

// @ts-ignore: decorator
@inline function ld(p: usize, j: i32): f32 { return load<f32>(p + (<usize>j << 2)); }

const GROUP_MAX_EPS: f32 = 1e-15;

// @ts-ignore: decorator
@inline function clampSigned(l: i32, nmax: i32): i32 {
  l = nmax - 1 < l ? nmax - 1 : l;
  return -nmax > l ? -nmax : l;
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
