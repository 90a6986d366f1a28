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
import { gptqRtnSolver } from '../kernels/groupwise/rtn-gptq.ts';
import { dequantizeRows } from '../kernels/groupwise/dequantize.ts';
import { packGptq, unpackGptq } from '../kernels/groupwise/gptq.ts';
import { type GroupBits, type GroupwiseSpec } from '../kernels/groupwise/spec.ts';
import { referenceGptq } from './support/gptq-reference.ts';

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
