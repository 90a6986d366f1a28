/**
 * kernels/ggml-types.ts agrees with llama.cpp's own type traits (`ggml_get_type_traits`) on name,
 * block size, type size and "is quantized" for every id in our table that llama.cpp knows, and
 * the helpers derive sizes correctly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadLlamaCpp, llamaCppUnavailable } from './support/llama-cpp.ts';
import { GGML_TYPES, GgmlTypeId, bitsPerWeight, ggmlType, ggmlTypeByName, rowSize, tensorBytes } from '../kernels/ggml-types.ts';

test('every table row matches llama.cpp type traits', async (t) => {
  if (llamaCppUnavailable) return t.skip(llamaCppUnavailable);
  const ll = await loadLlamaCpp();
  let checked = 0;
  const unknown: string[] = [];
  for (const row of GGML_TYPES) {
    const tr = ll.typeTraits(row.id);
    // Ids newer than the pinned llama.cpp have no traits there (blck_size 0 / no name).
    if (!tr.name || tr.blockSize === 0) { unknown.push(row.name); continue; }
    assert.equal(tr.name.toUpperCase(), row.name, `type ${row.id} name`);
    assert.equal(tr.blockSize, row.blockSize, `${row.name} block size`);
    assert.equal(tr.typeSize, row.typeSize, `${row.name} type size`);
    assert.equal(tr.quantized, row.quantized, `${row.name} is_quantized`);
    checked++;
  }
  // All the long-standing types must be known to the pinned build; only the 2026 additions may be missing.
  assert.ok(checked >= 30, `only ${checked} types checked; unknown to llama.cpp: ${unknown.join(', ')}`);
  for (const name of unknown) assert.ok(['NVFP4', 'Q1_0', 'Q2_0'].includes(name), `${name} unknown to llama.cpp`);
});

test('GgmlTypeId, lookups and size helpers agree with the table', () => {
  for (const [name, id] of Object.entries(GgmlTypeId)) {
    assert.equal(ggmlType(id)?.name, name);
    assert.equal(ggmlTypeByName(name.toLowerCase())?.id, id);
  }
  const q4k = ggmlType(GgmlTypeId.Q4_K)!;
  assert.equal(bitsPerWeight(q4k), 4.5);
  assert.equal(rowSize(q4k, 4096), 16 * 144);
  assert.throws(() => rowSize(q4k, 100), RangeError);
  assert.equal(tensorBytes(q4k, [4096, 32000]), 16n * 144n * 32000n);
  assert.equal(ggmlType(4), undefined); // removed ids stay out
});
