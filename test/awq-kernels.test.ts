/**
 * The AWQ kernels (kernels/groupwise/awq-*.ts) against direct float64 implementations written here
 * from the reference (awq-gptq-reference.md §3.2 and §1.1): pseudo-quantization, x_mean / w_mean,
 * the candidate scales, the grid search over a small module, auto_clip, and the scale fold.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { roundToHalf } from '../kernels/fp16.ts';
import { awqPseudoQuantize } from '../kernels/groupwise/awq-pseudo.ts';
import { meanAbsActivation, groupNormalizedWeightMean } from '../kernels/groupwise/awq-stats.ts';
import { awqCandidateScales, searchAwqScale, outputLoss, scaledPseudoQuantize } from '../kernels/groupwise/awq-scale.ts';
import { awqClipSearch, applyAwqClip, clipSampleTokens } from '../kernels/groupwise/awq-clip.ts';
import { scaleColumns, divideTail, divideLastRows, divideColumns } from '../kernels/groupwise/awq-apply-scale.ts';
import { awqRtnSolver } from '../kernels/groupwise/rtn-awq.ts';
import { dequantizeRows } from '../kernels/groupwise/dequantize.ts';
import type { GroupBits } from '../kernels/groupwise/spec.ts';
import { randomWeights } from './groupwise-fixtures.ts';

// ---- float64 references, straight from the reference text ----

/** §1.1: s = clamp(max-min, 1e-5)/maxq (fp16, as upstream), z = clamp(-round(min/s)), q = clamp(round(w/s)+z). */
function refQuant(w: ArrayLike<number>, rows: number, cols: number, gs: number, bits: number): Float64Array {
  const maxq = 2 ** bits - 1;
  const out = new Float64Array(rows * cols);
  const g = gs === -1 ? cols : gs;
  const rnd = (x: number) => { const r = Math.round(x); return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r; };
  for (let r = 0; r < rows; r++) {
    for (let c0 = 0; c0 < cols; c0 += g) {
      const idx = Array.from({ length: Math.min(g, cols - c0) }, (_, i) => r * cols + c0 + i);
      const min = Math.min(...idx.map((k) => w[k]!)), max = Math.max(...idx.map((k) => w[k]!));
      const s = roundToHalf(Math.max(max - min, 1e-5) / maxq);
      const z = Math.min(maxq, Math.max(0, -rnd(min / s)));
      for (const k of idx) out[k] = (Math.min(maxq, Math.max(0, rnd(w[k]! / s) + z)) - z) * s;
    }
  }
  return out;
}

function refScales(xMean: ArrayLike<number>, wMean: ArrayLike<number>, ratio: number, duo = true): Float64Array {
  const s = Float64Array.from(xMean, (x, c) => Math.max(duo ? x ** ratio / (wMean[c]! ** (1 - ratio) + 1e-4) : x ** ratio, 1e-4));
  const norm = Math.sqrt(Math.max(...s) * Math.min(...s));
  return s.map((v) => (Number.isFinite(v / norm) ? v / norm : 1));
}

/** Activations with a few large channels, as real LLM inputs have (what AWQ is for). */
function activations(nTok: number, cols: number, seed: number): Float32Array {
  const x = randomWeights(nTok * cols, seed, 1);
  for (let t = 0; t < nTok; t++) for (const c of [1, 7, 20]) if (c < cols) x[t * cols + c] *= 12;
  return x;
}

function linear(x: Float32Array | Float64Array, nTok: number, w: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const y = new Float64Array(nTok * rows);
  for (let t = 0; t < nTok; t++) for (let r = 0; r < rows; r++) {
    let d = 0;
    for (let c = 0; c < cols; c++) d += x[t * cols + c]! * w[r * cols + c]!;
    y[t * rows + r] = d;
  }
  return y;
}

const mse = (a: ArrayLike<number>, b: ArrayLike<number>) => { let s = 0; for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2; return s / a.length; };

// ---- tests ----

test('pseudo-quantize equals §1.1 in float64 and decodes like the written checkpoint', () => {
  for (const bits of [3, 4] as GroupBits[]) for (const gs of [32, 64, -1]) {
    const rows = 24, cols = 96 + (gs === 32 ? 12 : 0); // a partial last group at g32
    const w = randomWeights(rows * cols, 11 + bits + gs, 0.1);
    const got = awqPseudoQuantize(w, rows, cols, { bits, groupSize: gs, sym: false });
    const ref = refQuant(w, rows, cols, gs, bits);
    let same = 0;
    for (let i = 0; i < got.length; i++) if (Math.abs(got[i]! - ref[i]!) < 1e-6) same++;
    assert.ok(same / got.length >= 0.999, `${bits}-bit g${gs}: ${same}/${got.length} equal`);
    assert.deepEqual(got, dequantizeRows(awqRtnSolver.quantize(w, rows, cols, { bits, groupSize: gs, sym: false })));
  }
});

test('x_mean and w_mean match their definitions (float32 exact without fp16, fp16-rounded with it)', () => {
  const nTok = 50, cols = 64;
  const x = activations(nTok, cols, 3);
  const ref = Array.from({ length: cols }, (_, c) => { let s = 0; for (let t = 0; t < nTok; t++) s += Math.abs(x[t * cols + c]!); return s / nTok; });
  const xm = meanAbsActivation(x, nTok, cols, false);
  ref.forEach((v, c) => assert.ok(Math.abs(xm[c]! - v) <= 1e-6 * v, `x_mean[${c}]`));
  assert.deepEqual(meanAbsActivation(x, nTok, cols), Float32Array.from(ref, (v) => roundToHalf(Math.fround(v))));

  const a = randomWeights(10 * cols, 4, 0.1), b = randomWeights(6 * cols, 5, 0.3);
  for (const gs of [32, -1]) {
    const g = gs === -1 ? cols : gs;
    const wref = new Float64Array(cols);
    for (const [m, rows] of [[a, 10], [b, 6]] as const) for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
      const g0 = Math.floor(c / g) * g;
      let amax = 0;
      for (let k = g0; k < g0 + g; k++) amax = Math.max(amax, Math.abs(m[r * cols + k]!));
      wref[c] += Math.abs(m[r * cols + c]!) / (amax + 1e-6) / 16;
    }
    const wm = groupNormalizedWeightMean([{ data: a, rows: 10 }, { data: b, rows: 6 }], cols, gs, false);
    wref.forEach((v, c) => assert.ok(Math.abs(wm[c]! - v) <= 1e-6, `w_mean[${c}] g${gs}`));
  }
});

test('candidate scales: the duo_scaling and x-only formulas, normalized by sqrt(max·min)', () => {
  const cols = 40;
  const xm = Float32Array.from({ length: cols }, (_, c) => 0.01 + (c % 7) * 0.9 + (c === 3 ? 30 : 0));
  const wm = Float32Array.from({ length: cols }, (_, c) => 0.2 + (c % 5) * 0.1);
  xm[9] = 0; // a dead channel: x^ratio = 0 (or 1 at ratio 0), clamped to 1e-4
  for (const duo of [true, false]) for (const ratio of [0, 0.05, 0.5, 0.95]) {
    const got = awqCandidateScales(xm, wm, ratio, { duo, half: false });
    const ref = refScales(xm, wm, ratio, duo);
    ref.forEach((v, c) => assert.ok(Math.abs(got[c]! - v) <= 2e-6 * v, `duo=${duo} ratio=${ratio} s[${c}] ${got[c]} vs ${v}`));
    let max = 0, min = Infinity;
    for (const v of got) { max = Math.max(max, v); min = Math.min(min, v); }
    assert.ok(Math.abs(max * min - 1) < 1e-5, 'normalized: max·min = 1');
    const half = awqCandidateScales(xm, wm, ratio, { duo });
    half.forEach((v, c) => { assert.equal(roundToHalf(v), v); assert.ok(Math.abs(v - ref[c]!) <= 3e-3 * ref[c]!, `fp16 s[${c}]`); });
  }
});

test('scale search over one linear: the float64 search picks the same ratio; AWQ beats plain RTN on outlier channels', async () => {
  const nTok = 128, cols = 64, rows = 48;
  for (const [bits, gs] of [[4, 32], [3, 32], [4, -1]] as [GroupBits, number][]) {
    const x = activations(nTok, cols, 21 + bits);
    const w = randomWeights(rows * cols, 22 + bits, 0.08);
    const spec = { bits, groupSize: gs, sym: false };
    const xMean = meanAbsActivation(x, nTok, cols, false);
    const wMean = groupNormalizedWeightMean([{ data: w, rows }], cols, gs, false);
    const loss = await outputLoss([w], async ([cand]) => Float32Array.from(linear(x, nTok, cand!, rows, cols)));
    const got = await searchAwqScale({ xMean, wMean, linears: [{ data: w, rows }], cols, spec, loss, half: false });
    // float64 reference search
    const yRef = linear(x, nTok, w, rows, cols);
    const refLosses: number[] = [];
    for (let i = 0; i < 20; i++) {
      const s = refScales(xMean, wMean, i / 20);
      const ws = Float64Array.from(w, (v, k) => v * s[k % cols]!);
      const q = refQuant(ws, rows, cols, gs, bits).map((v, k) => v / s[k % cols]!);
      refLosses.push(mse(yRef, linear(x, nTok, q, rows, cols)));
    }
    const refBest = refLosses.indexOf(Math.min(...refLosses));
    assert.equal(got.ratio, refBest / 20, `${bits}-bit g${gs}: ratio`);
    got.losses.forEach((l, i) => assert.ok(Math.abs(l - refLosses[i]!) <= 0.02 * refLosses[i]!, `${bits}-bit g${gs} loss[${i}] ${l} vs ${refLosses[i]}`));
    const plain = mse(yRef, linear(x, nTok, refQuant(w, rows, cols, gs, bits), rows, cols));
    assert.ok(Math.abs(got.lossBefore - plain) <= 0.02 * plain, 'lossBefore = plain RTN');
    assert.ok(got.lossAfter < 0.9 * got.lossBefore, `${bits}-bit g${gs}: ${got.lossAfter} vs RTN ${got.lossBefore}`);
    assert.equal(got.lossAfter, Math.min(...got.losses));
    assert.deepEqual(got.scales, awqCandidateScales(xMean, wMean, got.ratio, { half: false }));
  }
});

test('scale search: ties keep the first ratio; all-NaN losses are an error', async () => {
  const cols = 8, w = randomWeights(8 * cols, 1, 0.1), m = Float32Array.from({ length: cols }, () => 1);
  const flat = await searchAwqScale({ xMean: m, wMean: m, linears: [{ data: w, rows: 8 }], cols, spec: { bits: 4, groupSize: -1, sym: false }, loss: async () => 0.5 });
  assert.equal(flat.ratio, 0);
  await assert.rejects(searchAwqScale({ xMean: m, wMean: m, linears: [{ data: w, rows: 8 }], cols, spec: { bits: 4, groupSize: -1, sym: false }, loss: async () => NaN }), /finite loss/);
});

test('auto_clip equals a float64 auto_clip: token sampling, shrink grid, per-(row, group) choice', () => {
  assert.deepEqual(clipSampleTokens(10, 4), [0, 2, 4, 6, 8]);
  assert.equal(clipSampleTokens(1100).length, 550);
  assert.equal(clipSampleTokens(300).length, 300);
  // 1100 tokens: every 2nd sampled, the Gram-matrix path; 40 tokens: all kept, at g-1 the direct path (group wider than the samples)
  for (const [bits, gs, nTok] of [[4, 32, 1100], [3, 32, 1100], [4, -1, 1100], [4, -1, 40], [3, 32, 40]] as [GroupBits, number, number][]) {
    const cols = 64, rows = 20;
    const x = activations(nTok, cols, 31);
    const w = randomWeights(rows * cols, 32, 0.08);
    for (let r = 0; r < rows; r++) w[r * cols + (r % cols)] = 0.9; // an outlier weight per row: clipping pays
    const spec = { bits, groupSize: gs, sym: false };
    const got = awqClipSearch(w, rows, cols, x, nTok, spec);
    const g = gs === -1 ? cols : gs, G = cols / g;
    const step = Math.max(1, Math.floor(nTok / 512));
    const toks = Array.from({ length: Math.ceil(nTok / step) }, (_, i) => step * i);
    let same = 0, lossRef = 0;
    for (let r = 0; r < rows; r++) for (let j = 0; j < G; j++) {
      const ws = Array.from({ length: g }, (_, k) => w[r * cols + j * g + k]!);
      const dot = (v: ArrayLike<number>, t: number) => { let d = 0; for (let k = 0; k < g; k++) d += x[t * cols + j * g + k]! * v[k]!; return d; };
      const orgMax = Math.max(...ws.map(Math.abs));
      let best = orgMax, minErr = 1e9;
      for (let i = 0; i < 10; i++) {
        const mv = orgMax * (1 - i / 20);
        const q = refQuant(ws.map((v) => Math.min(mv, Math.max(-mv, v))), 1, g, -1, bits);
        const err = toks.reduce((a, t) => a + (dot(q, t) - dot(ws, t)) ** 2, 0) / toks.length;
        if (err < minErr) { minErr = err; best = mv; }
      }
      lossRef += minErr / (rows * G);
      if (Math.abs(got.maxVal[r * G + j]! - best) <= 1e-6 * best) same++;
    }
    assert.ok(same / (rows * G) >= 0.95, `${bits}-bit g${gs}: ${same}/${rows * G} clip values equal`);
    assert.ok(Math.abs(got.loss - lossRef) <= 0.02 * lossRef, `${bits}-bit g${gs}: loss ${got.loss} vs ${lossRef}`);
    assert.ok(got.loss < got.lossUnclipped, 'clipping lowers the objective');
    const clipped = w.slice();
    applyAwqClip(clipped, rows, cols, gs, got.maxVal);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
      const mv = got.maxVal[r * G + Math.floor(c / g)]!;
      assert.equal(clipped[r * cols + c], Math.min(mv, Math.max(-mv, w[r * cols + c]!)));
    }
  }
});

test('apply_scale keeps the function: norm/s then W·s, and fc1 rows /s then fc2 columns ·s', () => {
  const nTok = 16, d = 32, h = 24, out = 16;
  const x = activations(nTok, d, 41), g = randomWeights(d, 42, 1).map((v) => 1 + v);
  const w1 = randomWeights(h * d, 43, 0.2), w2 = randomWeights(out * h, 44, 0.2);
  const s1 = Float32Array.from({ length: d }, (_, c) => 0.3 + (c % 9) * 0.4), s2 = Float32Array.from({ length: h }, (_, c) => 0.5 + (c % 4) * 0.6);
  const run = (gv: Float32Array, a: Float32Array, b: Float32Array) => linear(linear(Float64Array.from(x, (v, i) => v * gv[i % d]!), nTok, a, h, d), nTok, b, out, h);
  const before = run(g, w1, w2);
  const g2 = g.slice(), a = w1.slice(), b = w2.slice();
  divideTail(g2, s1); scaleColumns(a, h, d, s1); // ln -> fc1
  divideLastRows(a, h, d, s2); scaleColumns(b, out, h, s2); // fc1 -> fc2
  const after = run(g2, a, b);
  before.forEach((v, i) => assert.ok(Math.abs(after[i]! - v) <= 1e-4 * (1 + Math.abs(v)), `y[${i}] ${after[i]} vs ${v}`));
  const xs = x.slice();
  divideColumns(xs, nTok, d, s1);
  assert.ok(Math.abs(xs[d + 5]! * s1[5]! - x[d + 5]!) < 1e-6);
  // the scaled search candidate of a linear is Q(W·s)/s
  const cand = scaledPseudoQuantize({ data: w1, rows: h }, d, s1, { bits: 4, groupSize: 32, sym: false });
  const ws = w1.slice(); scaleColumns(ws, h, d, s1);
  const q = awqPseudoQuantize(ws, h, d, { bits: 4, groupSize: 32, sym: false });
  cand.forEach((v, k) => assert.equal(v, Math.fround(q[k]! / s1[k % d]!)));
});
