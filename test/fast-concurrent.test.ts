/**
 * Overlapping Quantizer calls: calls on shared memory skip the serial chain and queue their jobs
 * behind the previous call's, so several may be in flight at once, mixed with calls that stage
 * through scratch. Every result must still be the reference bytes in the caller's `out`, and
 * close() must wait for all of them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createQuantizer, sharedBytes, sharedFloat32Array } from '../kernels/fast/index.ts';
import { quantizeRows, dequantize } from '../kernels/quant-table.ts';
import { GgmlTypeId as T, ggmlType, rowSize } from '../kernels/ggml-types.ts';

function weights(n: number, seed: number, shared: boolean): Float32Array {
  const x = shared ? sharedFloat32Array(n) : new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    x[i] = ((s >>> 0) / 2 ** 32 - 0.5) * 0.2;
  }
  return x;
}

test('twelve overlapping calls (shared and staged, quantize and dequantize) all give the reference bytes', async () => {
  const q = await createQuantizer({ threads: 2 });
  const nPerRow = 1024;
  const nrows = 96;
  const types = [T.Q4_0, T.Q8_0, T.Q5_K, T.Q6_K, T.Q4_K, T.Q5_0];
  const calls = types.flatMap((type, i) => [true, false].map((shared) => {
    const src = weights(nrows * nPerRow, 100 + 2 * i + (shared ? 1 : 0), shared);
    const out = shared ? sharedBytes(nrows * rowSize(ggmlType(type)!, nPerRow) + 64) : undefined;
    return { type, src, out, shared, pending: q.quantizeChecked(type, src, nrows, nPerRow, out) };
  }));
  const nanSrc = weights(8 * nPerRow, 7, true);
  nanSrc[5 * nPerRow + 3] = Infinity;
  const nan = q.quantizeChecked(T.Q4_0, nanSrc, 8, nPerRow, sharedBytes(8 * rowSize(ggmlType(T.Q4_0)!, nPerRow)));
  for (const c of calls) {
    const r = await c.pending;
    const want = quantizeRows(c.type, c.src, nrows, nPerRow);
    assert.equal(r.firstNonFinite, -1);
    assert.ok(Buffer.from(r.bytes).equals(Buffer.from(want)), `${ggmlType(c.type)!.name} (${c.shared ? 'shared' : 'staged'}): bytes differ`);
    if (c.out) assert.equal(r.bytes.buffer, c.out.buffer, 'written into the caller\'s shared out');
  }
  assert.equal((await nan).firstNonFinite, 5 * nPerRow + 3);

  // Dequantize into shared outs, several at once, while a staged quantize runs too.
  const deqs = calls.filter((c) => c.shared).map((c) => {
    const bytes = quantizeRows(c.type, c.src, nrows, nPerRow);
    const sharedIn = sharedBytes(bytes.length);
    sharedIn.set(bytes);
    const out = sharedFloat32Array(nrows * nPerRow);
    return { c, bytes, out, pending: q.dequantize(c.type, sharedIn, nrows * nPerRow, out) };
  });
  const staged = q.quantize(T.Q8_0, weights(nPerRow * 4, 3, false), 4, nPerRow);
  for (const d of deqs) {
    const got = await d.pending;
    assert.equal(got.buffer, d.out.buffer);
    assert.deepEqual(new Uint32Array(got.slice().buffer), new Uint32Array(dequantize(d.c.type, d.bytes, nrows * nPerRow).buffer));
  }
  await staged;

  // close() waits for calls still in flight rather than failing them.
  const late = q.quantize(T.Q6_K, weights(nrows * nPerRow, 9, true), nrows, nPerRow, sharedBytes(nrows * rowSize(ggmlType(T.Q6_K)!, nPerRow)));
  await q.close();
  const lateBytes = await late;
  assert.equal(lateBytes.length, nrows * rowSize(ggmlType(T.Q6_K)!, nPerRow));
  await assert.rejects(q.quantize(T.Q4_0, sharedFloat32Array(32), 1, 32), /closed/);
});
