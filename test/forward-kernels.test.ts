/**
 * The forward pass's reference kernels (kernels/forward) against independent float64 computations
 * written here from the math, not from ggml's code. Each test states its tolerance and why.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from './kernels-inputs.ts';
import { rmsNorm, rope, attention, siluMul, addInPlace, addBias, softmax, logSoftmax } from '../kernels/forward/index.ts';

function randn(rng: Rng, n: number, s = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.gauss() * s;
  return a;
}

/** Largest |got − want| / (rel·|want| + abs) over all entries; ≤ 1 passes. */
function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, rel: number, abs: number, what: string): void {
  assert.equal(got.length >= want.length, true, `${what}: length`);
  let worst = 0, at = -1;
  for (let i = 0; i < want.length; i++) {
    const r = Math.abs(got[i]! - want[i]!) / (rel * Math.abs(want[i]!) + abs);
    if (!(r <= worst)) { worst = r; at = i; }
  }
  assert.ok(worst <= 1, `${what}: entry ${at} is ${got[at]} vs float64 ${want[at]} (${worst.toFixed(2)}× the tolerance)`);
}

// Float32 results of float64 math: a few ulps (2^-24 ≈ 6e-8 each) per rounded op.
const ULPS8 = 8 * 2 ** -24;

test('rmsNorm: x / sqrt(mean(x²) + eps) · w within 8 ulps, per token, with and without weight', () => {
  const rng = new Rng(1);
  const n = 5, dim = 96, eps = 1e-5;
  const x = randn(rng, n * dim, 3), w = randn(rng, dim);
  const out = new Float32Array(n * dim), bare = new Float32Array(n * dim);
  rmsNorm(x, n, dim, w, eps, out);
  rmsNorm(x, n, dim, null, eps, bare);
  const want = new Float64Array(n * dim), wantBare = new Float64Array(n * dim);
  for (let t = 0; t < n; t++) {
    let ss = 0;
    for (let i = 0; i < dim; i++) ss += x[t * dim + i]! ** 2;
    const s = 1 / Math.sqrt(ss / dim + eps);
    for (let i = 0; i < dim; i++) { wantBare[t * dim + i] = x[t * dim + i]! * s; want[t * dim + i] = x[t * dim + i]! * s * w[i]!; }
  }
  assertClose(out, want, ULPS8, 1e-30, 'rmsNorm');
  assertClose(bare, wantBare, ULPS8, 1e-30, 'rmsNorm without weight');
  // In place (x === out) gives the same floats.
  const inPlace = Float32Array.from(x);
  rmsNorm(inPlace, n, dim, w, eps, inPlace);
  assert.deepEqual(inPlace, out);
});

/** Rotary embedding from the formula: pair j rotated by p · base^(−2j/nRot) · freqScale / ff[j]. */
function rope64(x: Float32Array, n: number, heads: number, hd: number, pos: Int32Array, neox: boolean, base: number, nRot: number, ff?: Float32Array, freqScale = 1): Float64Array {
  const y = Float64Array.from(x);
  for (let t = 0; t < n; t++) for (let h = 0; h < heads; h++) {
    const o = (t * heads + h) * hd;
    for (let j = 0; j < nRot / 2; j++) {
      const theta = (pos[t]! * Math.pow(base, (-2 * j) / nRot) * freqScale) / (ff ? ff[j]! : 1);
      const a = neox ? o + j : o + 2 * j, b = neox ? o + j + nRot / 2 : o + 2 * j + 1;
      const x0 = x[a]!, x1 = x[b]!;
      y[a] = x0 * Math.cos(theta) - x1 * Math.sin(theta);
      y[b] = x0 * Math.sin(theta) + x1 * Math.cos(theta);
    }
  }
  return y;
}

// ggml computes theta by repeated float multiplication (theta *= theta_scale): after j steps the
// angle carries ~j·2^-24 relative error, i.e. up to p·j·6e-8 rad. With p < 40 and j < 32 that is
// < 1e-4 rad, so entries (|x| ≲ 4) agree within 5e-4 absolute.
const ROPE_ABS = 5e-4;

for (const mode of ['normal', 'neox'] as const) {
  test(`rope ${mode}: rotation angles p·base^(-2j/nRot), partial nRot, freq factors and freq scale (abs ${ROPE_ABS})`, () => {
    const rng = new Rng(mode === 'neox' ? 3 : 2);
    const n = 7, heads = 3, hd = 64;
    const pos = Int32Array.from([0, 1, 2, 5, 17, 30, 39]);
    const x = randn(rng, n * heads * hd);
    const neox = mode === 'neox';
    const a = Float32Array.from(x);
    rope(a, n, heads, hd, pos, { mode, base: 10000 });
    assertClose(a, rope64(x, n, heads, hd, pos, neox, 10000, hd), 0, ROPE_ABS, `${mode} full`);
    // Position 0 is the identity, exactly.
    assert.deepEqual(a.subarray(0, heads * hd), x.subarray(0, heads * hd));
    // Partial rotation (nRot < headDim): channels past nRot are untouched.
    const b = Float32Array.from(x);
    rope(b, n, heads, hd, pos, { mode, base: 500000, nRot: 32 });
    assertClose(b, rope64(x, n, heads, hd, pos, neox, 500000, 32), 0, ROPE_ABS, `${mode} nRot 32`);
    for (let t = 0; t < n; t++) for (let h = 0; h < heads; h++) {
      const o = (t * heads + h) * hd;
      assert.deepEqual(b.subarray(o + 32, o + hd), x.subarray(o + 32, o + hd));
    }
    // llama3 rope_freqs (divisors per pair) and a linear freq scale.
    const ff = Float32Array.from({ length: hd / 2 }, (_, j) => (j < 8 ? 1 : j < 24 ? 1 + (j - 8) / 4 : 8));
    const c = Float32Array.from(x);
    rope(c, n, heads, hd, pos, { mode, base: 500000, freqFactors: ff, freqScale: 0.25 });
    assertClose(c, rope64(x, n, heads, hd, pos, neox, 500000, hd, ff, 0.25), 0, ROPE_ABS, `${mode} freq factors`);
  });
}

/** Causal GQA attention in float64 from the definition. */
function attention64(q: Float32Array, k: Float32Array, v: Float32Array, n: number, H: number, HK: number, D: number, scale: number, softcap = 0, window?: number): Float64Array {
  const out = new Float64Array(n * H * D);
  for (let h = 0; h < H; h++) {
    const g = Math.floor(h / (H / HK));
    for (let t = 0; t < n; t++) {
      const keys: number[] = [];
      for (let j = 0; j <= t; j++) if (window === undefined || t - j < window) keys.push(j);
      const s = keys.map((j) => {
        let d = 0;
        for (let i = 0; i < D; i++) d += q[(t * H + h) * D + i]! * k[(j * HK + g) * D + i]!;
        if (softcap) d = softcap * Math.tanh(d / softcap);
        return d * scale;
      });
      const m = Math.max(...s);
      const e = s.map((z) => Math.exp(z - m));
      const sum = e.reduce((a, b) => a + b, 0);
      keys.forEach((j, idx) => {
        for (let i = 0; i < D; i++) out[(t * H + h) * D + i] += (e[idx]! / sum) * v[(j * HK + g) * D + i]!;
      });
    }
  }
  return out;
}

// Scores are rounded to float a few times (dot, scale, exp, normalisation): the weights carry a few
// 1e-7 relative error and the output, a convex mix of |v| ≲ 4, stays within 2e-6.
test('attention: causal softmax(q·k·scale)·v with GQA, sliding window and soft-capping (abs 2e-6)', () => {
  const rng = new Rng(4);
  const n = 23, H = 6, HK = 2, D = 16, scale = 1 / Math.sqrt(D);
  const q = randn(rng, n * H * D), k = randn(rng, n * HK * D), v = randn(rng, n * HK * D);
  for (const [opts, what] of [[{}, 'causal'], [{ window: 5 }, 'window 5'], [{ softcap: 2.5 }, 'softcap 2.5'], [{ window: 1 }, 'window 1']] as const) {
    const out = new Float32Array(n * H * D);
    attention(q, k, v, n, H, HK, D, scale, out, opts);
    assertClose(out, attention64(q, k, v, n, H, HK, D, scale, (opts as { softcap?: number }).softcap, (opts as { window?: number }).window), 0, 2e-6, what);
  }
  // Token 0 attends only to itself: its output is its value row, for each head of the group.
  const out = new Float32Array(n * H * D);
  attention(q, k, v, n, H, HK, D, scale, out);
  for (let h = 0; h < H; h++) assertClose(out.subarray(h * D, h * D + D), v.subarray(Math.floor(h / 3) * D, Math.floor(h / 3) * D + D), 0, 1e-7, `token 0 head ${h}`);
  assert.throws(() => attention(q, k, v, n, 5, 2, D, scale, out), /not a multiple/);
});

test('siluMul, addInPlace, addBias: float64 formulas within 8 ulps', () => {
  const rng = new Rng(5);
  const n = 1000;
  const g = randn(rng, n, 6), u = randn(rng, n), out = new Float32Array(n);
  siluMul(g, u, out);
  assertClose(out, Array.from(g, (z, i) => (z / (1 + Math.exp(-z))) * u[i]!), ULPS8, 1e-30, 'siluMul');
  const acc = Float32Array.from(g);
  addInPlace(acc, u);
  assertClose(acc, Array.from(g, (z, i) => z + u[i]!), 2 ** -24, 1e-30, 'addInPlace');
  const x = Float32Array.from(g);
  addBias(x, 10, 100, u);
  assertClose(x, Array.from(g, (z, i) => z + u[i % 100]!), 2 ** -24, 1e-30, 'addBias');
});

// Softmax: the argument x·scale − max (|.| ≤ ~20 here) is rounded to float twice, which moves
// exp(.) by up to 2·20·2^-24 ≈ 2.4e-6 relative; so 5e-6 relative. logSoftmax rounds logit − max to
// float as llama-perplexity does: 1 ulp (2^-23 relative) of the result, plus 1e-6 absolute.
test('softmax (with scale) and logSoftmax: float64 formulas (5e-6 relative; log within 1 ulp + 1e-6)', () => {
  const rng = new Rng(6);
  const n = 3000;
  const x = randn(rng, n, 5);
  const p = new Float32Array(n);
  softmax(x, p, n, 0.7);
  const m = Math.max(...Array.from(x, (z) => z * 0.7));
  const e = Array.from(x, (z) => Math.exp(z * 0.7 - m));
  const s = e.reduce((a, b) => a + b, 0);
  assertClose(p, e.map((z) => z / s), 5e-6, 1e-30, 'softmax');
  const lp = new Float64Array(n);
  logSoftmax(x, lp);
  const mx = Math.max(...x);
  const ls = Math.log(Array.from(x, (z) => Math.exp(z - mx)).reduce((a, b) => a + b, 0));
  assertClose(lp, Array.from(x, (z) => z - mx - ls), 2 ** -23, 1e-6, 'logSoftmax');
  // Masked (−inf) entries get probability exactly 0.
  const masked = Float32Array.from([1, -Infinity, 2]);
  softmax(masked, masked);
  assert.equal(masked[1], 0);
  assertClose(masked, [1 / (1 + Math.E), 0, Math.E / (1 + Math.E)], ULPS8, 1e-30, 'masked softmax');
});
