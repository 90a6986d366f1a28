/**
 * `make_qp_quants(n, nmax, x, L, quant_weights)` (ggml-quants.c): quantizes the non-negative
 * sub-block scales (or mins) of the imatrix K-quant paths to 0..nmax against one block scale.
 * A search over iscale = (nmax + 0.1·is)/max, is = −4..4, by weighted squared error, then up to
 * five coordinate-descent passes that move one code at a time while the fit improves.
 * Every float op is binary32 (`F`) in C evaluation order; L holds the C `uint8_t` codes.
 */
import { F, nearestInt } from './rounding.ts';

const GROUP_MAX_EPS = F(1e-15);
const F0_1 = F(0.1);

/** Returns the block scale; codes go to L[0..n). `x` and `w` hold binary32 values. */
export function makeQpQuants(n: number, nmax: number, x: Float64Array, L: Int32Array, w: Float64Array): number {
  let max = 0;
  for (let i = 0; i < n; i++) max = max > x[i]! ? max : x[i]!; // MAX(max, x[i])
  if (max < GROUP_MAX_EPS) {
    for (let i = 0; i < n; i++) L[i] = 0;
    return 0;
  }
  let iscale = F(nmax / max);
  for (let i = 0; i < n; i++) L[i] = nearestInt(F(iscale * x[i]!)) & 255;
  const scale = F(1 / iscale);
  let bestMse = 0;
  for (let i = 0; i < n; i++) {
    const diff = F(x[i]! - F(scale * L[i]!));
    bestMse = F(bestMse + F(F(w[i]! * diff) * diff));
  }
  for (let is = -4; is <= 4; is++) {
    if (is === 0) continue;
    const iscaleIs = F(F(F(F0_1 * is) + nmax) / max);
    const scaleIs = F(1 / iscaleIs);
    let mse = 0;
    for (let i = 0; i < n; i++) {
      let l = nearestInt(F(iscaleIs * x[i]!));
      if (l > nmax) l = nmax;
      const diff = F(x[i]! - F(scaleIs * l));
      mse = F(mse + F(F(w[i]! * diff) * diff));
    }
    if (mse < bestMse) {
      bestMse = mse;
      iscale = iscaleIs;
    }
  }
  let sumlx = 0, suml2 = 0;
  for (let i = 0; i < n; i++) {
    let l = nearestInt(F(iscale * x[i]!));
    if (l > nmax) l = nmax;
    L[i] = l & 255;
    // The sums take the int l, not the uint8_t L[i]: they differ when x < 0 (IQ2_XXS passes values
    // whose sign it flipped back, so l can be negative there).
    sumlx = F(sumlx + F(F(w[i]! * x[i]!) * l));
    suml2 = F(suml2 + F(F(w[i]! * l) * l));
  }
  for (let itry = 0; itry < 5; itry++) {
    let changed = 0;
    for (let i = 0; i < n; i++) {
      const wi = w[i]!, xi = x[i]!, li = L[i]!;
      let slx = F(sumlx - F(F(wi * xi) * li));
      let sl2 = F(suml2 - F(F(wi * li) * li));
      if (slx > 0 && sl2 > 0) {
        let nl = nearestInt(F(F(xi * sl2) / slx));
        if (nl > nmax) nl = nmax;
        if (nl !== li) {
          slx = F(slx + F(F(wi * xi) * nl));
          sl2 = F(sl2 + F(F(wi * nl) * nl));
          if (F(F(slx * slx) * suml2) > F(F(sumlx * sumlx) * sl2)) {
            L[i] = nl & 255; sumlx = slx; suml2 = sl2;
            changed++;
          }
        }
      }
    }
    if (changed === 0) break;
  }
  return suml2 > 0 ? F(sumlx / suml2) : 0;
}
