/**
 * kernels/quant-support.ts (capabilities as data, for callers that must not load the kernels)
 * says exactly what the kernel table (kernels/quant-table.ts) holds, type by type.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QUANT_SUPPORT, canDequantize, canQuantize, hasImatrixQuantizer, requiresImatrix } from '../kernels/quant-support.ts';
import { quantKernel } from '../kernels/quant-table.ts';
import { GGML_TYPES } from '../kernels/ggml-types.ts';

test('every ggml type: the support table and the kernel table agree on every operation', () => {
  for (const t of GGML_TYPES) {
    const k = quantKernel(t.id);
    const s = QUANT_SUPPORT.get(t.id);
    assert.equal(s !== undefined, k !== undefined, `${t.name}: in one table only`);
    assert.equal(canQuantize(t.id), !!(k?.quantize || k?.quantizeImatrix), `${t.name}: canQuantize`);
    assert.equal(hasImatrixQuantizer(t.id), !!k?.quantizeImatrix, `${t.name}: imatrix quantizer`);
    assert.equal(canDequantize(t.id), !!k?.dequantize, `${t.name}: dequantizer`);
    assert.equal(requiresImatrix(t.id), !!k?.requiresImatrix, `${t.name}: requires an imatrix`);
  }
});
