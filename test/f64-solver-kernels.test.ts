/**
 * The float64 wasm kernels of the calibration solvers (kernels/wasm/assembly/f64-solver.ts) give
 * the same bits as the JS loops they replaced — each f64x2 lane is one independent computation in
 * the JS order — on random data with odd sizes (the scalar tails), zeros in U (skipped columns)
 * and an odd number of candidates.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F64Wasm } from '../kernels/groupwise/wasm-f64.ts';
import { upperCholeskyOfInverse, upperCholeskyOfInverseWasm, choleskyScratch } from '../kernels/groupwise/gptq-cholesky.ts';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

test('subOuterF64 equals W[:, k] -= E[:, i]·U[i, k] in JS, bit for bit', () => {
  const r = rng(7);
  for (const [rows, cols, nErr, k0, u0, uc0] of [[7, 9, 3, 2, 1, 0], [16, 12, 5, 5, 4, 3], [1, 4, 2, 0, 0, 0]] as const) {
    const uStride = cols + 6;
    const W = Float64Array.from({ length: rows * cols }, r), E = Float64Array.from({ length: rows * nErr }, r);
    const U = Float64Array.from({ length: (u0 + nErr) * uStride }, (_, i) => (i % 5 === 0 ? 0 : r()));
    const ref = W.slice();
    for (let k = k0; k < cols; k++) for (let i = 0; i < nErr; i++) {
      const u = U[(u0 + i) * uStride + uc0 + k]!;
      if (u === 0) continue;
      for (let q = 0; q < rows; q++) ref[k * rows + q] -= E[i * rows + q]! * u;
    }
    const w = F64Wasm.get();
    w.reset();
    const at = { W: w.alloc(W.length), E: w.alloc(E.length), U: w.alloc(U.length) };
    w.f64(at.W, W.length).set(W); w.f64(at.E, E.length).set(E); w.f64(at.U, U.length).set(U);
    w.subOuter(at.W, rows, k0, cols, at.E, nErr, at.U, uStride, u0, uc0);
    assert.deepEqual(w.f64(at.W, W.length), ref, `${rows}x${cols}`);
  }
});

test('quadFormPairsF64 equals Σ_a d[a]·Σ_b G[a,b]·d[b] in JS, bit for bit', () => {
  const r = rng(11);
  for (const [n, nCand] of [[5, 11], [32, 8], [3, 1]] as const) {
    const G = Float64Array.from({ length: n * n }, r);
    const D = Array.from({ length: nCand }, () => Float64Array.from({ length: n }, r));
    const want = D.map((d) => {
      let err = 0;
      for (let a = 0; a < n; a++) { let row = 0; for (let b = 0; b < n; b++) row += G[a * n + b]! * d[b]!; err += d[a]! * row; }
      return err;
    });
    const w = F64Wasm.get();
    w.reset();
    const nPairs = (nCand + 1) >> 1;
    const at = { G: w.alloc(n * n), D: w.alloc(nPairs * 2 * n), out: w.alloc(2 * nPairs) };
    w.f64(at.G, n * n).set(G);
    const dd = w.f64(at.D, nPairs * 2 * n).fill(0);
    D.forEach((d, c) => { for (let k = 0; k < n; k++) dd[(c >> 1) * 2 * n + 2 * k + (c & 1)] = d[k]!; });
    w.quadFormPairs(at.G, n, at.D, nPairs, at.out);
    assert.deepEqual([...w.f64(at.out, nCand)], want);
  }
});

test('the wasm Cholesky / inverse / Cholesky chain gives the JS upperCholeskyOfInverse bit for bit; a non-PD H throws the same error', () => {
  const r = rng(3);
  const w = F64Wasm.get();
  const run = (H: Float64Array, n: number) => {
    w.reset();
    const at = { H: w.alloc(n * n + 2), U: w.alloc(n * n), s: w.alloc(choleskyScratch(n)) };
    const h = w.f64(at.H, n * n + 2).fill(0);
    h.set(H);
    upperCholeskyOfInverseWasm(w, n, at.H, at.U, at.s);
    return w.f64(at.U, n * n).slice();
  };
  for (const n of [1, 2, 7, 33, 64]) {
    const X = Float64Array.from({ length: 3 * n * n }, r); // H = XᵀX / m + damp: SPD, not exactly symmetric in bits
    const H = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < 3 * n; t++) s += X[t * n + i]! * X[t * n + j]!;
      H[i * n + j] = s / (3 * n) + (i === j ? 0.01 : 0);
    }
    assert.deepEqual(run(H, n), upperCholeskyOfInverse(H, n), `n = ${n}`);
  }
  const bad = Float64Array.from([1, 2, 2, 1]);
  assert.throws(() => upperCholeskyOfInverse(bad, 2), (e: Error) => { assert.throws(() => run(bad, 2), { message: e.message }); return true; });
});
