/**
 * Issue 13 (per-tensor bytes): with an importance matrix, our quantizers give the same bytes as
 * llama.cpp's `ggml_quantize_chunk(type, src, dst, 0, nrows, n_per_row, imatrix)`, which runs
 * `quantize_row_*_impl` — on ≥ 1M hard values per type, with imatrix vectors that include zeros,
 * huge ratios between columns, all-equal and all-zero columns. 0 differing blocks is the bar.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadLlamaCpp, llamaCppUnavailable } from './support/llama-cpp.ts';
import { quantizeRows, quantKernel } from '../kernels/quant-table.ts';
import { ggmlType, GgmlTypeId } from '../kernels/ggml-types.ts';
import { makeInputs } from './kernels-inputs.ts';
import { IMATRIX_KINDS, importance } from './imatrix-inputs.ts';
import { differingBlocks, hex } from './kernels-oracle.ts';

const N = 1 << 20;
const TYPES = ['Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K', 'IQ4_NL', 'IQ4_XS'] as const;

for (const name of TYPES) {
  const id = GgmlTypeId[name];
  test(`${name} with an imatrix: ${N} values give llama.cpp's bytes`, async (t) => {
    if (llamaCppUnavailable) return t.skip(llamaCppUnavailable);
    const ll = await loadLlamaCpp();
    const type = ggmlType(id)!;
    assert.ok(quantKernel(id)?.quantizeImatrix, `${name} has an imatrix quantizer`);
    // Long rows (σ² over the row matters for the legacy types) and rows of one super-block; every
    // imatrix kind gets an equal share of the values.
    for (const nPerRow of [4096, 256]) {
      const per = N / IMATRIX_KINDS.length / nPerRow | 0;
      for (const [k, kind] of IMATRIX_KINDS.entries()) {
        const seed = id * 100 + k + nPerRow;
        const src = makeInputs(seed, per * nPerRow);
        const qw = importance(kind, nPerRow, seed);
        const ours = quantizeRows(id, src, per, nPerRow, qw);
        const theirs = ll.quantizeChunk(id, src, per, nPerRow, qw);
        const bad = differingBlocks(ours, theirs, type.typeSize);
        const first = bad[0];
        assert.equal(bad.length, 0, `${name} nPerRow=${nPerRow} imatrix=${kind}: ${bad.length} of ${ours.length / type.typeSize} blocks differ` +
          (first === undefined ? '' : `; first block ${first}: ours ${hex(ours.subarray(first * type.typeSize, (first + 1) * type.typeSize))}, llama.cpp ${hex(theirs.subarray(first * type.typeSize, (first + 1) * type.typeSize))}`));
      }
    }
  });
}

test('the imatrix changes the bytes (it is not ignored) and a short imatrix is refused', () => {
  const src = makeInputs(9, 4096);
  const plain = quantizeRows(GgmlTypeId.Q4_K, src, 16, 256);
  const weighted = quantizeRows(GgmlTypeId.Q4_K, src, 16, 256, importance('huge-ratios', 256, 3));
  assert.notDeepEqual(weighted, plain);
  assert.throws(() => quantKernel(GgmlTypeId.Q4_K)!.quantizeImatrix!(src, new Uint8Array(16 * 144), 16, 256, new Float32Array(128)), /importance matrix has 128 values, need 256/);
});
