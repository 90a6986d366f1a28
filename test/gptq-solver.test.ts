/**
 * GPTQ solver exactness: the blocked, Cholesky-based `gptqFasterquant` against a direct,
 * unblocked float64 GPTQ written from the paper (Frantar et al., eq. 2-3, the OBQ column loop):
 * quantize column j, spread its error over the later columns with the inverse Hessian,
 *   δW[:, k] = -(w_j - q_j) / [H⁻¹]_jj · [H⁻¹]_jk,
 * then remove j from H⁻¹ by Gaussian elimination, H⁻¹ ← H⁻¹ - H⁻¹[:, j] H⁻¹[j, :] / [H⁻¹]_jj.
 * The loss term is (w - q)² / [H⁻¹]_jj (the paper's OBS error), halved. No Cholesky, no blocks.
 * The one non-mathematical choice it copies from upstream is WHICH weights a group's scale/zero
 * are fitted on: AutoGPTQ fits them on the global W, which holds the values as of the start of
 * the current 128-column block (reference §3.1 quirk), so the reference snapshots W every 128
 * columns for that purpose.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gptqFasterquant } from '../kernels/groupwise/gptq-solver.ts';
import { addBatch, createHessian } from '../kernels/groupwise/gptq-hessian.ts';
import { gptqFit, gptqRtnSolver } from '../kernels/groupwise/rtn-gptq.ts';
import { descendingOrder } from '../kernels/groupwise/groups.ts';
import { roundHalfEven } from '../kernels/groupwise/round.ts';
import { dequantizeRows } from '../kernels/groupwise/dequantize.ts';
import { packGptq, unpackGptq } from '../kernels/groupwise/gptq.ts';
import { maxCode, type GroupBits, type GroupwiseSpec } from '../kernels/groupwise/spec.ts';

function rng(seed: number) {
  let a = seed >>> 0;
  const u = () => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/** Correlated activations `[seqs * seq, cols]`: 24 latent factors, per-column gains, noise, one dead column. */
function activations(cols: number, seqs: number, seq: number, seed: number, noise = 0.3): Float32Array {
  const g = rng(seed), F = 24;
  const A = Float64Array.from({ length: F * cols }, g);
  const gain = Float64Array.from({ length: cols }, () => Math.exp(g()));
  const X = new Float32Array(seqs * seq * cols);
  for (let t = 0; t < seqs * seq; t++) {
    const z = Float64Array.from({ length: F }, g);
    for (let c = 0; c < cols; c++) {
      let v = noise * g();
      for (let f = 0; f < F; f++) v += z[f]! * A[f * cols + c]!;
      X[t * cols + c] = c === 5 ? 0 : gain[c]! * v;
    }
  }
  return X;
}

function layer(rows: number, cols: number, seed: number, noise = 0.3) {
  const g = rng(seed);
  const weight = Float32Array.from({ length: rows * cols }, () => 0.05 * g());
  const X = activations(cols, 4, 2 * cols / 4 | 0, seed + 1, noise);
  const h = createHessian(cols);
  const half = X.length / 2;
  addBatch(h, X.subarray(0, half), 2);
  addBatch(h, X.subarray(half), 2);
  return { weight, H: h.H, nsamples: h.nsamples };
}

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
const inverses = new WeakMap<Float32Array, Map<boolean, Float64Array>>();
function cachedInverse(H: Float32Array, descAct: boolean, make: () => Float64Array): Float64Array {
  const byOrder = inverses.get(H) ?? new Map<boolean, Float64Array>();
  inverses.set(H, byOrder);
  if (!byOrder.has(descAct)) byOrder.set(descAct, make());
  return byOrder.get(descAct)!;
}

function referenceGptq(weight: Float32Array, rows: number, cols: number, H0: Float32Array, spec: GroupwiseSpec, staticGroups: boolean) {
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
  for (let i = 0; i < cols; i++) for (let j = 0; j < cols; j++) Hp[i * cols + j] = H[order[i]! * cols + order[j]!]! + (i === j ? 0.01 * mean : 0);
  const Hinv = cachedInverse(H0, !!spec.descAct, () => invert(Hp, cols)).slice(); // mutated below
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

test('add_batch: running average gives H = 2/N_seq · Σ x xᵀ in float32, symmetric, n counts sequences', () => {
  const cols = 40, X = activations(cols, 6, 10, 3);
  const h = createHessian(cols);
  addBatch(h, X.subarray(0, 2 * 10 * cols), 2);
  addBatch(h, X.subarray(2 * 10 * cols), 4);
  assert.equal(h.nsamples, 6);
  let worst = 0;
  for (let i = 0; i < cols; i++) for (let j = 0; j < cols; j++) {
    let s = 0;
    for (let t = 0; t < 60; t++) s += X[t * cols + i]! * X[t * cols + j]!;
    const want = (2 / 6) * s, got = h.H[i * cols + j]!;
    assert.equal(got, h.H[j * cols + i]);
    worst = Math.max(worst, Math.abs(got - want) / Math.max(1e-30, Math.abs(h.H[i * cols + i]! * h.H[j * cols + j]!) ** 0.5));
  }
  assert.ok(worst < 1e-5, `worst relative error ${worst}`);
  assert.equal(h.H[5 * cols + 5], 0); // the dead column stays exactly 0
});

test('blocked fasterquant equals the unblocked float64 OBQ-form GPTQ (codes ≥ 99.9%, loss 1e-6 rel)', () => {
  const rows = 24, cols = 320;
  let cfg = 0, worstMatch = 1, worstLoss = 0;
  for (const bits of [2, 3, 4, 8] as GroupBits[]) {
    const { weight, H, nsamples } = layer(rows, cols, 100 + bits);
    for (const groupSize of [-1, 32, 64, 128]) for (const descAct of [false, true]) for (const staticGroups of groupSize === -1 ? [false] : [false, true]) {
      const spec: GroupwiseSpec = { bits, groupSize, sym: cfg++ % 2 === 0, descAct };
      const got = gptqFasterquant(weight, rows, cols, H, spec, { staticGroups, nsamples });
      const ref = referenceGptq(weight, rows, cols, H, spec, staticGroups);
      let same = 0;
      for (let i = 0; i < got.codes.length; i++) if (got.codes[i] === ref.codes[i]) same++;
      const match = same / got.codes.length, rel = Math.abs(got.loss - ref.loss) / ref.loss;
      const label = `${bits}-bit gs${groupSize} ${spec.sym ? 'sym' : 'asym'} act=${descAct} static=${staticGroups}`;
      assert.ok(match >= 0.999, `${label}: ${match} identical codes`);
      assert.ok(rel <= 1e-6, `${label}: loss ${got.loss} vs ${ref.loss}`);
      assert.ok(Number.isFinite(got.loss) && got.loss > 0 && Math.abs(got.avgLoss - got.loss / nsamples) < 1e-12 * got.loss);
      worstMatch = Math.min(worstMatch, match); worstLoss = Math.max(worstLoss, rel);
    }
  }
  console.log(`# ${cfg} configurations: worst identical-code fraction ${worstMatch}, worst loss rel diff ${worstLoss.toExponential(2)}`);
});

function outputError(weight: Float32Array, deq: Float32Array, rows: number, cols: number, H: Float32Array): number {
  let total = 0; // Σ_r dᵀ H d  ∝ ‖(W - Ŵ) X‖²
  const d = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) d[c] = weight[r * cols + c]! - deq[r * cols + c]!;
    for (let i = 0; i < cols; i++) { let s = 0; for (let j = 0; j < cols; j++) s += H[i * cols + j]! * d[j]!; total += d[i]! * s; }
  }
  return total;
}

test('GPTQ output error ‖WX − ŴX‖² ≤ RTN (gptq-rtn solver) on the same H', () => {
  const rows = 32, cols = 256, lines: string[] = [];
  // noise 0.3: H dominated by 24 latent factors; noise 3: nearly isotropic, little to compensate
  for (const bits of [2, 3, 4, 8] as GroupBits[]) for (const noise of [0.3, 3]) {
    const { weight, H } = layer(rows, cols, 700 + bits, noise);
    for (const groupSize of [-1, 32, 128]) for (const sym of [true, false]) for (const descAct of [false, true]) {
      const spec: GroupwiseSpec = { bits, groupSize, sym, descAct };
      const gptq = gptqFasterquant(weight, rows, cols, H, spec);
      const g = outputError(weight, gptq.dequantized, rows, cols, H);
      const rtn = outputError(weight, dequantizeRows(gptqRtnSolver().quantize(weight, rows, cols, { ...spec, descAct: false })), rows, cols, H);
      const label = `${bits}-bit gs${groupSize} ${sym ? 'sym' : 'asym'} act=${descAct} noise=${noise}`;
      assert.ok(g <= rtn, `${label}: GPTQ ${g} > RTN ${rtn}`);
      lines.push(`${label} ${(g / rtn).toFixed(3)}`);
    }
  }
  console.log(`# GPTQ/RTN output error ratio: ${lines.join('; ')}`);
});

test('dequantized Q is the packer-facing (codes, scales, zeros, g_idx) decoded', () => {
  const { weight, H } = layer(16, 192, 9);
  for (const staticGroups of [false, true]) {
    const m = gptqFasterquant(weight, 16, 192, H, { bits: 4, groupSize: 32, sym: false, descAct: true }, { staticGroups });
    assert.deepEqual(dequantizeRows(m), m.dequantized);
    for (let k = 0; k < 192; k++) assert.ok(m.gIdx[k]! >= 0 && m.gIdx[k]! < 6);
    if (staticGroups) assert.deepEqual([...m.gIdx], Array.from({ length: 192 }, (_, k) => Math.floor(k / 32)));
  }
});

test('the solution goes through the existing GPTQ v1 packer and back unchanged', () => {
  const { weight, H } = layer(16, 192, 11);
  for (const bits of [2, 3, 4, 8] as GroupBits[]) for (const descAct of [false, true]) {
    const m = gptqFasterquant(weight, 16, 192, H, { bits, groupSize: 64, sym: bits === 4, descAct });
    const back = unpackGptq(packGptq(m), 16, 192, bits, 64);
    assert.deepEqual(back.codes, m.codes);
    assert.deepEqual(back.zeros, m.zeros);
    assert.deepEqual(back.gIdx, m.gIdx);
    assert.deepEqual(dequantizeRows(back), m.dequantized);
  }
});
