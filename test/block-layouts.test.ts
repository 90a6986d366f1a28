/**
 * The block layout table (kernels/block-layouts.ts) is the one place block geometry is written:
 * each type's size is derived from its fields, fields are packed in order, the sizes equal
 * llama.cpp's `ggml_type_size`, and row validation built on the table's float fields rejects
 * exactly the rows llama.cpp's `ggml_validate_row_data` rejects.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadLlamaCpp, llamaCppUnavailable } from './support/llama-cpp.ts';
import { GGML_TYPES, GgmlTypeId as T, ggmlType } from '../kernels/ggml-types.ts';
import { floatFields, kindBytes } from '../kernels/block-layouts.ts';
import { firstInvalidRow, firstNonFiniteBlock } from '../kernels/validate-row.ts';

test('typeSize is the packed size of the block struct, fields in order with no gaps', () => {
  for (const t of GGML_TYPES) {
    let offset = 0;
    for (const f of t.layout.fields) {
      assert.equal(f.offset, offset, `${t.name}.${f.name} offset`);
      assert.equal(f.width % kindBytes(f.kind), 0, `${t.name}.${f.name} width`);
      offset += f.width;
    }
    assert.equal(t.typeSize, offset, `${t.name} typeSize`);
  }
  // ggml-common.h's static_asserts, for the types the pinned llama.cpp does not know yet.
  assert.equal(ggmlType(T.NVFP4)!.typeSize, 36);
  assert.equal(ggmlType(T.Q1_0)!.typeSize, 18);
  assert.equal(ggmlType(T.Q2_0)!.typeSize, 18);
});

test('type sizes from the layout table equal ggml_type_size', async (t) => {
  if (llamaCppUnavailable) return t.skip(llamaCppUnavailable);
  const ll = await loadLlamaCpp();
  for (const row of GGML_TYPES) {
    const tr = ll.typeTraits(row.id);
    if (!tr.name || tr.blockSize === 0) continue;
    assert.equal(row.typeSize, tr.typeSize, row.name);
  }
});

const NON_FINITE: Record<string, number[][]> = {
  f16: [[0x00, 0x7c], [0x01, 0x7c], [0x00, 0xfc]],
  bf16: [[0x80, 0x7f], [0xc0, 0x7f], [0x80, 0xff]],
  f32: [[0, 0, 0x80, 0x7f], [1, 0, 0xc0, 0x7f], [0, 0, 0x80, 0xff]],
};

test('row validation rejects the rows ggml_validate_row_data rejects, and no others', async (t) => {
  if (llamaCppUnavailable) return t.skip(llamaCppUnavailable);
  const ll = await loadLlamaCpp();
  const types = [T.F32, T.F16, T.BF16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0, T.Q2_K, T.Q3_K, T.Q4_K, T.Q5_K, T.Q6_K, T.IQ4_NL, T.IQ4_XS];
  for (const id of types) {
    const type = ggmlType(id)!;
    const blocks = 8;
    // Finite everywhere: 0x3c (a positive normal exponent) in every byte.
    const good = new Uint8Array(blocks * type.typeSize).fill(0x3c);
    assert.equal(ll.validateRowData(id, good), true, `${type.name} all-finite row`);
    assert.equal(firstNonFiniteBlock(type, good), -1, `${type.name} all-finite row`);
    const fields = floatFields(type.layout);
    assert.ok(fields.length > 0, `${type.name} has a float field to validate`);
    for (const f of fields) {
      for (const pattern of NON_FINITE[f.kind]!) {
        const bad = good.slice();
        bad.set(pattern, 5 * type.typeSize + f.offset);
        assert.equal(ll.validateRowData(id, bad), false, `${type.name}.${f.name} ${pattern}`);
        assert.equal(firstNonFiniteBlock(type, bad), 5, `${type.name}.${f.name} ${pattern}`);
        assert.equal(firstInvalidRow(type, bad, 2 * type.blockSize), 2, `${type.name}.${f.name} row`);
      }
    }
  }
});
