/**
 * Issue 3 item 1: our reference quantizers produce the same bytes as llama.cpp's
 * `ggml_quantize_chunk` (which runs `quantize_row_*_ref` without an imatrix), on ≥ 1M values per
 * type covering normal, heavy-tailed, zero, single-nonzero, tie, on-grid, subnormal, huge, near
 * fp16 max and NaN/Inf blocks. 0 differing blocks is the bar. (Also MXFP4, IQ4_NL and IQ4_XS, whose
 * no-imatrix quantizers llama-quantize runs for those file types.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadLlamaCpp, llamaCppUnavailable } from './support/llama-cpp.ts';
import { quantizeRows, canQuantize } from '../kernels/quant-table.ts';
import { ggmlType, GgmlTypeId, GGML_TYPES } from '../kernels/ggml-types.ts';
import { makeInputs, INPUT_KINDS, Rng, fillKind } from './kernels-inputs.ts';
import { differingBlocks, hex } from './kernels-oracle.ts';
import { quantizeRowQ8_KRef } from '../kernels/ref/q8_k.ts';

const N = 1 << 20; // values per type
const QUANT_TYPES = ['Q8_0', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K', 'MXFP4', 'IQ4_NL', 'IQ4_XS'] as const;

for (const name of QUANT_TYPES) {
  const id = GgmlTypeId[name];
  test(`${name}: ${N} values quantize to llama.cpp's bytes`, async (t) => {
    if (llamaCppUnavailable) return t.skip(llamaCppUnavailable);
    const ll = await loadLlamaCpp();
    const type = ggmlType(id)!;
    assert.ok(canQuantize(id));
    // Two shapes: long rows, and rows of exactly one 256-value segment.
    for (const [nPerRow, seed] of [[4096, 1000 + id], [256, 2000 + id]] as const) {
      const src = makeInputs(seed, N);
      const ours = quantizeRows(id, src, N / nPerRow, nPerRow);
      const theirs = ll.quantizeChunk(id, src, N / nPerRow, nPerRow);
      const bad = differingBlocks(ours, theirs, type.typeSize);
      const first = bad[0];
      assert.equal(bad.length, 0, `${name} nPerRow=${nPerRow}: ${bad.length} of ${ours.length / type.typeSize} blocks differ` +
        (first === undefined ? '' : `; first block ${first}: input ${Array.from(src.subarray(first * type.blockSize, first * type.blockSize + 8))}…, ours ${hex(ours.subarray(first * type.typeSize, (first + 1) * type.typeSize))}, llama.cpp ${hex(theirs.subarray(first * type.typeSize, (first + 1) * type.typeSize))}`));
    }
  });

  test(`${name}: every input kind alone matches llama.cpp`, async (t) => {
    if (llamaCppUnavailable) return t.skip(llamaCppUnavailable);
    const ll = await loadLlamaCpp();
    const type = ggmlType(id)!;
    const rng = new Rng(77 + id);
    for (const kind of INPUT_KINDS) {
      const src = new Float32Array(256 * 64);
      for (let off = 0; off < src.length; off += 256) fillKind(rng, kind, src, off, 256);
      const ours = quantizeRows(id, src, 64, 256);
      const bad = differingBlocks(ours, ll.quantizeChunk(id, src, 64, 256), type.typeSize);
      assert.equal(bad.length, 0, `${name} on ${kind}: ${bad.length} blocks differ`);
    }
  });
}

test('quantizeRows rejects rows that are not whole blocks', () => {
  assert.throws(() => quantizeRows(GgmlTypeId.Q4_0, new Float32Array(48), 1, 48), /block size 32/);
  assert.throws(() => quantizeRows(GgmlTypeId.IQ2_XXS, new Float32Array(256), 1, 256), /IQ2_XXS requires an importance matrix/);
  const none = GGML_TYPES.find((t) => t.blockSize > 1 && 256 % t.blockSize === 0 && !canQuantize(t.id))!;
  assert.throws(() => quantizeRows(none.id, new Float32Array(256), 1, 256), /no quantizer/);
});

test('Q8_K: quantizeRowQ8_KRef matches quantize_row_q8_K_ref (called directly; not in ggml_quantize_chunk)', async (t) => {
  if (llamaCppUnavailable) return t.skip(llamaCppUnavailable);
  const ll = await loadLlamaCpp();
  const koffi = (await import('koffi')).default;
  const fn = koffi.load(`${ll.binsDir}/libggml-base.so`).func('void quantize_row_q8_K_ref(const float *x, _Out_ uint8_t *y, int64_t k)');
  const n = 1 << 20;
  const src = makeInputs(5000, n);
  const theirs = new Uint8Array((n / 256) * 292);
  fn(src, theirs, n);
  const ours = new Uint8Array(theirs.length);
  quantizeRowQ8_KRef(src, 0, ours, 0, n / 256);
  const bad = differingBlocks(ours, theirs, 292);
  assert.equal(bad.length, 0, `Q8_K: ${bad.length} of ${n / 256} blocks differ`);
});
