/**
 * A direct, unblocked float64 GPTQ written from the paper (Frantar et al., eq. 2-3, the OBQ column
 * loop), the oracle of the blocked solver (test/gptq-solver.test.ts, test/gptq-calibrate.test.ts):
 * quantize column j, spread its error over the later columns with the inverse Hessian, then remove
 * j from H⁻¹ by Gaussian elimination. The loss term is (w - q)² / [H⁻¹]_jj, halved. No Cholesky, no
 * blocks. The one non-mathematical choice copied from upstream is WHICH weights a group's
 * scale/zero are fitted on: AutoGPTQ fits them on the global W as of the start of the current
 * 128-column block (reference §3.1 quirk), so the reference snapshots W every 128 columns.
 */
import { gptqFit } from '../../kernels/groupwise/rtn-gptq.ts';
import { descendingOrder } from '../../kernels/groupwise/groups.ts';
import { roundHalfEven } from '../../kernels/groupwise/round.ts';
import { maxCode, type GroupwiseSpec } from '../../kernels/groupwise/spec.ts';

function invert(A: Float64Array, n: number): Float64Array { // Gauss-Jordan, partial pivoting
  const M = Float64Array.from(A), I = new Float64Array(n * n);
  for (let i = 0; i < n; i++) I[i * n + i] = 1;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r * n + c]!) > Math.abs(M[p * n + c]!)) p = r;
    for (const X of [M, I]) for (let k = 0; k < n; k++) { const t = X[c * n + k]!; X[c * n + k] = X[p * n + k]!; X[p * n + k] = t; }
    const d = M[c * n + c]!;
    for (const X of [M, I]) for (let k = 0; k < n; k++) X[c * n + k] /= d;
    for (let r = 0; r < n; r++) {
      const f = M[r * n + c]!;
      if (r === c || f === 0) continue;
      for (const X of [M, I]) for (let k = 0; k < n; k++) X[r * n + k] -= f * X[c * n + k]!;
    }
  }
  return I;
}

/** The damped, permuted H depends only on (H, act-order): invert it once per pair (test speed). */
const inverses = new WeakMap<Float32Array, Map<string, Float64Array>>();
function cachedInverse(H: Float32Array, descAct: string, make: () => Float64Array): Float64Array {
  const byOrder = inverses.get(H) ?? new Map<string, Float64Array>();
  inverses.set(H, byOrder);
  if (!byOrder.has(descAct)) byOrder.set(descAct, make());
  return byOrder.get(descAct)!;
}

export function referenceGptq(weight: Float32Array, rows: number, cols: number, H0: Float32Array, spec: GroupwiseSpec, staticGroups: boolean, dampPercent = 0.01) {
  const fit = gptqFit(spec), maxq = maxCode(spec.bits), gs = spec.groupSize;
  const W = Float64Array.from(weight); // row-major
  const params = (src: Float64Array, cs: number[]) => Array.from({ length: rows }, (_, r) => {
    const v = cs.map((c) => src[r * cols + c]!);
    const min = Math.min(...v), max = Math.max(...v);
    return fit(min, max, Math.max(-min, max));
  });
  const range = (a: number, b: number) => Array.from({ length: Math.min(b, cols) - a }, (_, i) => a + i);
  const rowParams = params(W, range(0, cols));
  const H = Float64Array.from(H0);
  for (let i = 0; i < cols; i++) if (H[i * cols + i] === 0) { H[i * cols + i] = 1; for (let r = 0; r < rows; r++) W[r * cols + i] = 0; }
  const staticP = gs === -1 ? [] : Array.from({ length: Math.ceil(cols / gs) }, (_, g) => params(W, range(g * gs, (g + 1) * gs)));
  const order = spec.descAct ? [...descendingOrder(Array.from({ length: cols }, (_, i) => H[i * cols + i]!))] : range(0, cols);
  const mean = order.reduce((s, i) => s + H[i * cols + i]!, 0) / cols;
  const Hp = new Float64Array(cols * cols);
  for (let i = 0; i < cols; i++) for (let j = 0; j < cols; j++) Hp[i * cols + j] = H[order[i]! * cols + order[j]!]! + (i === j ? dampPercent * mean : 0);
  const Hinv = cachedInverse(H0, `${!!spec.descAct}:${dampPercent}`, () => invert(Hp, cols)).slice(); // mutated below
  const Wp = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let i = 0; i < cols; i++) Wp[r * cols + i] = W[r * cols + order[i]!]!;
  const codes = new Uint8Array(rows * cols);
  let loss = 0, snap = Wp, cur = rowParams;
  for (let j = 0; j < cols; j++) {
    if (j % 128 === 0) snap = Wp.slice();
    if (gs !== -1) {
      if (staticGroups) cur = staticP[Math.floor(order[j]! / gs)]!;
      else if (j % gs === 0) cur = params(snap, range(j, j + gs));
    }
    const hjj = Hinv[j * cols + j]!;
    for (let r = 0; r < rows; r++) {
      const w = Wp[r * cols + j]!, { scale, zero } = cur[r]!;
      const q = Math.min(maxq, Math.max(0, roundHalfEven(w / scale) + zero));
      codes[r * cols + order[j]!] = q;
      const err = w - scale * (q - zero);
      loss += (err * err) / hjj;
      for (let k = j + 1; k < cols; k++) Wp[r * cols + k] -= (err / hjj) * Hinv[j * cols + k]!;
    }
    for (let a = j + 1; a < cols; a++) {
      const f = Hinv[a * cols + j]! / hjj;
      for (let b = j + 1; b < cols; b++) Hinv[a * cols + b] -= f * Hinv[j * cols + b]!;
    }
  }
  return { codes, loss: loss / 2 };
}

