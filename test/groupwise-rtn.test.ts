/**
 * The RTN solvers compute exactly the upstream formulas (AutoAWQ pseudo_quantize_tensor, AutoGPTQ
 * Quantizer.find_params) with fp16 scales and round-half-even, and their round-trip error obeys
 * the bound derived in groupwise-bound.ts for every bits x group size x sym/asym x act-order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { awqRtnSolver } from '../kernels/groupwise/rtn-awq.ts';
import { gptqRtnSolver } from '../kernels/groupwise/rtn-gptq.ts';
import { roundHalfEven } from '../kernels/groupwise/round.ts';
import { roundToHalf, fp32ToFp16 as toHalfBits, fp16ToFp32 as fromHalfBits } from '../kernels/fp16.ts';
import { GROUP_BITS, type GroupwiseSolver } from '../kernels/groupwise/spec.ts';
import { loadLlamaCpp, llamaCppUnavailable } from './support/llama-cpp.ts';
import { randomWeights } from './groupwise-fixtures.ts';
import { checkRtnBound } from './groupwise-bound.ts';

test('round half to even, like torch.round', () => {
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, 2.5001, -3.5].map(roundHalfEven), [0, 2, 2, -0, -2, -2, 2, 3, -4]);
});

test('fp16 rounding matches ggml_fp32_to_fp16 (the llama.cpp oracle)', async (t) => {
  if (llamaCppUnavailable) return t.skip(llamaCppUnavailable);
  const ll = await loadLlamaCpp();
  const xs = [0, -0, 1, 0.1, 1 / 3, 65504, 65519, 65520, 1e5, 6e-8, 2 ** -24, 2 ** -25, 3 * 2 ** -26, 1e-5 / 15, 0.06, 0.08, -0.0123];
  const rnd = randomWeights(4000, 5, 1);
  for (let i = 0; i < rnd.length; i++) xs.push(rnd[i] * 10 ** ((i % 12) - 8));
  for (const x of xs) assert.equal(toHalfBits(x), ll.fp32ToFp16(x), `x=${x}`);
  assert.equal(fromHalfBits(0x3c00), 1);
  assert.equal(fromHalfBits(0x0001), 2 ** -24);
});

test('AWQ asymmetric known answer: s = (max-min)/15 in fp16, z = -round(min/s)', () => {
  const w = Float32Array.from([-0.3, -0.1, 0, 0.05, 0.2, 0.4, 0.45, 0.6]);
  const m = awqRtnSolver.quantize(w, 1, 8, { bits: 4, groupSize: 8, sym: false });
  assert.equal(m.scales[0], roundToHalf(0.06));
  assert.equal(m.scales[0], 1.919921875 * 2 ** -5);
  assert.equal(m.zeros[0], 5);
  assert.deepEqual([...m.codes], [0, 3, 5, 6, 8, 12, 13, 15]);
});

test('GPTQ symmetric known answer: s = 2*max|w|/15 in fp16, z = 8', () => {
  const w = Float32Array.from([-0.3, -0.1, 0, 0.05, 0.2, 0.4, 0.45, 0.6]);
  const m = gptqRtnSolver().quantize(w, 1, 8, { bits: 4, groupSize: 8, sym: true });
  assert.equal(m.scales[0], 1.2802734375 * 2 ** -4);
  assert.equal(m.zeros[0], 8);
  assert.deepEqual([...m.codes], [4, 7, 8, 9, 10, 13, 14, 15]);
  // halves round to even: s = 1 exactly, so 2.5 -> 2 and 0.5 -> 0 (Math.round would give 3 and 1)
  const ties = gptqRtnSolver().quantize(Float32Array.from([-7.5, 2.5, 0.5, 3.5]), 1, 4, { bits: 4, groupSize: -1, sym: true });
  assert.equal(ties.scales[0], 1);
  assert.deepEqual([...ties.codes], [0, 10, 8, 12]);
});

test('GPTQ asymmetric: zero of 0 is avoided for v1 (z = 1, range rescaled), kept with v1SafeZero off', () => {
  const w = Float32Array.from({ length: 32 }, (_, i) => 0.01 + i * 0.003); // no negative weight
  const safe = gptqRtnSolver().quantize(w, 1, 32, { bits: 4, groupSize: 32, sym: false });
  assert.equal(safe.zeros[0], 1);
  assert.deepEqual(checkRtnBound(w, safe).violations, []);
  assert.equal(checkRtnBound(w, safe).clipped, 0);
  const upstream = gptqRtnSolver({ v1SafeZero: false }).quantize(w, 1, 32, { bits: 4, groupSize: 32, sym: false });
  assert.equal(upstream.zeros[0], 0);
});

test('every scale is fp16-exact and every code within [0, maxq]', () => {
  const w = randomWeights(32 * 128, 9);
  for (const bits of GROUP_BITS) for (const sym of [true, false]) {
    const m = gptqRtnSolver().quantize(w, 32, 128, { bits, groupSize: 32, sym });
    assert.ok(m.scales.every((s) => s > 0 && roundToHalf(s) === s));
    assert.ok(m.codes.every((c) => c <= (1 << bits) - 1));
  }
});

test('RTN error obeys |w - ŵ| <= s(1/2 + maxq 2^-11) for every combination; clipping only in one-signed groups', () => {
  const out = 64, inF = 256;
  // mostly bell-shaped weights, plus one row of all-positive weights to exercise clipping
  const w = randomWeights(out * inF, 21);
  for (let k = 0; k < inF; k++) w[5 * inF + k] = 0.02 + Math.abs(w[5 * inF + k]);
  const lines: string[] = [];
  for (const bits of GROUP_BITS) for (const groupSize of [32, 64, 128, -1]) for (const sym of [true, false]) for (const descAct of [false, true]) {
    const spec = { bits, groupSize, sym, descAct };
    const solvers: [string, GroupwiseSolver][] = [['gptq', gptqRtnSolver()], ...(descAct ? [] : [['awq', awqRtnSolver] as [string, GroupwiseSolver]])];
    for (const [name, solver] of solvers) {
      const r = checkRtnBound(w, solver.quantize(w, out, inF, spec));
      assert.deepEqual(r.violations, [], `${name} ${JSON.stringify(spec)}`);
      // the clipping exceptions are exactly the ones the derivation names
      if (name === 'gptq' && !sym) assert.equal(r.clipped, 0, `gptq asym ${JSON.stringify(spec)} never clips`);
      if (name === 'awq' && sym) assert.equal(r.clipped, 0, `awq sym ${JSON.stringify(spec)} never clips`);
      if (bits === 4 && groupSize === 128) lines.push(`${name} ${sym ? 'sym' : 'asym'}${descAct ? ' act-order' : ''}: rel ${r.relFrobenius.toFixed(4)} max|err|/s ${r.maxErrOverScale.toFixed(4)} clipped ${r.clipped}`);
    }
  }
  console.log(lines.join('\n'));
});
