/**
 * Issue 3 item 4: round-trip metrics (RMSE, max/mean abs error, relative Frobenius error, SNR,
 * cosine, NaN/Inf count, llama.cpp's ggml_rmse), streaming and mergeable, accurate over 1e9 values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RoundTripMetrics, roundTripMetrics } from '../kernels/metrics.mjs';
import { dequantize, quantizeRows } from '../kernels/quant-table.ts';
import { GgmlTypeId } from '../kernels/ggml-types.ts';
import { Rng } from './kernels-inputs.ts';

const close = (a: number, b: number, rel = 1e-12, what = '') =>
  assert.ok(Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b)), `${what}: ${a} vs ${b}`);

test('every metric on a small hand-checked example', () => {
  const m = roundTripMetrics(Float32Array.from([1, 2, 3, 4]), Float32Array.from([1, 2, 3, 5]));
  assert.equal(m.count, 4);
  assert.equal(m.nonFinite, 0);
  close(m.rmse, 0.5, 1e-15, 'rmse');
  assert.equal(m.maxAbs, 1);
  close(m.meanAbs, 0.25, 1e-15, 'meanAbs');
  close(m.relFrobenius, 1 / Math.sqrt(30), 1e-15, 'relFrobenius');
  close(m.snrDb, 10 * Math.log10(30), 1e-15, 'snrDb');
  close(m.cosine, 34 / Math.sqrt(30 * 39), 1e-15, 'cosine');
  close(m.ggml_rmse, 0.25, 1e-15, 'ggml_rmse = sqrt(Σd²)/n');
});

test('exact round trip, zero tensors and empty input have defined values', () => {
  const x = Float32Array.from([0.5, -2, 3]);
  const exact = roundTripMetrics(x, x.slice());
  assert.equal(exact.rmse, 0);
  assert.equal(exact.snrDb, Infinity);
  assert.equal(exact.cosine, 1);
  assert.equal(exact.relFrobenius, 0);
  const zeros = roundTripMetrics(new Float32Array(8), new Float32Array(8));
  assert.deepEqual([zeros.cosine, zeros.relFrobenius, zeros.snrDb], [1, 0, Infinity]);
  const fromZero = roundTripMetrics(new Float32Array(2), Float32Array.from([1, 1]));
  assert.deepEqual([fromZero.cosine, fromZero.relFrobenius], [0, Infinity]);
  const empty = new RoundTripMetrics().result();
  assert.equal(empty.count, 0);
  assert.equal(empty.rmse, 0);
});

test('NaN and Inf pairs are counted and left out of every sum', () => {
  const orig = Float32Array.from([1, NaN, 2, Infinity, 3, 4]);
  const approx = Float32Array.from([1, 1, 2, 3, -Infinity, 5]);
  const m = roundTripMetrics(orig, approx);
  assert.equal(m.nonFinite, 3);
  assert.equal(m.count, 3);
  assert.equal(m.maxAbs, 1);
  close(m.rmse, Math.sqrt(1 / 3), 1e-15, 'rmse over finite pairs');
});

test('streaming over row ranges in any order and merging equals one pass', () => {
  const rng = new Rng(5);
  const n = 100_003;
  const orig = new Float32Array(n).map(() => rng.gauss());
  const approx = orig.map((v) => v + rng.gauss() * 0.01);
  const whole = roundTripMetrics(orig, approx);
  // Three workers take interleaved ranges of random sizes, then merge.
  const parts = [new RoundTripMetrics(), new RoundTripMetrics(), new RoundTripMetrics()];
  let k = 0;
  for (let start = 0; start < n; k++) {
    const end = Math.min(n, start + 1 + rng.int(5000));
    parts[k % 3]!.add(orig, approx, start, end);
    start = end;
  }
  const merged = new RoundTripMetrics();
  for (const p of parts.reverse()) merged.merge(p);
  const r = merged.result();
  assert.equal(r.count, whole.count);
  assert.equal(r.maxAbs, whole.maxAbs);
  for (const key of ['rmse', 'meanAbs', 'relFrobenius', 'snrDb', 'cosine', 'ggml_rmse'] as const) close(r[key], whole[key], 1e-13, key);
  assert.throws(() => merged.add(orig, approx, 0, n + 1), RangeError);
});

test('sums stay exact to ~1e-15 over 1e9 values (checked against an exact BigInt sum)', () => {
  // W = a·2^-30 and Ŵ = b·2^-30 with integer a, b < 2^24: every d² is an exact multiple of 2^-60,
  // so Σd² is known exactly as a BigInt. A plain float64 running sum is off by 7.6e-9 here.
  const rng = new Rng(9);
  const chunk = 1 << 20, repeats = 954; // 1.0003e9 values
  const orig = new Float32Array(chunk), approx = new Float32Array(chunk);
  let exactChunk = 0n;
  for (let i = 0; i < chunk; i++) {
    const a = rng.int(1 << 23), b = a + rng.int(1 << 16) - (1 << 15);
    orig[i] = a * 2 ** -30;
    approx[i] = b * 2 ** -30;
    exactChunk += BigInt(b - a) ** 2n;
  }
  const m = new RoundTripMetrics();
  for (let r = 0; r < repeats; r++) m.add(orig, approx);
  const res = m.result();
  assert.equal(res.count, chunk * repeats);
  const exactSumSq = Number(exactChunk * BigInt(repeats)) * 2 ** -60;
  const ourSumSq = res.ggml_rmse ** 2 * res.count ** 2;
  close(ourSumSq, exactSumSq, 1e-14, 'Σd² over 1e9 values');
});

test('on real quantizers the error ranks Q8_0 < Q6_K < Q5_K < Q4_K < Q3_K < Q2_K', () => {
  const rng = new Rng(21);
  const n = 1 << 16;
  const w = new Float32Array(n).map(() => rng.gauss() * 0.02);
  const snr: number[] = [];
  for (const id of [GgmlTypeId.Q8_0, GgmlTypeId.Q6_K, GgmlTypeId.Q5_K, GgmlTypeId.Q4_K, GgmlTypeId.Q3_K, GgmlTypeId.Q2_K]) {
    const m = roundTripMetrics(w, dequantize(id, quantizeRows(id, w, n / 4096, 4096), n));
    assert.equal(m.nonFinite, 0);
    assert.ok(m.cosine > 0.9 && m.cosine <= 1 + 1e-12, `cosine ${m.cosine}`);
    close(m.relFrobenius, 10 ** (-m.snrDb / 20), 1e-12, 'relFrobenius vs SNR');
    snr.push(m.snrDb);
  }
  for (let i = 1; i < snr.length; i++) assert.ok(snr[i]! < snr[i - 1]!, `SNR not decreasing: ${snr.map((s) => s.toFixed(1)).join(' > ')}`);
});
