import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dtypeSize, toFloat32, SAFETENSORS_DTYPES } from '../formats/safetensors/dtypes.ts';
import { GgmlTypeId } from '../kernels/ggml-types.ts';
import { loadLlamaCpp, llamaCppUnavailable } from './support/llama-cpp.ts';

const allHalfPatterns = () => {
  const bits = new Uint16Array(65536).map((_, i) => i);
  return new Uint8Array(bits.buffer);
};

/** Same float32 bits, treating every NaN alike (payloads need not survive). */
function sameBits(a: Float32Array, b: Float32Array): number {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let diffs = 0;
  for (let i = 0; i < a.length; i++) if (ua[i] !== ub[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) diffs++;
  return diffs;
}

test('dtype sizes', () => {
  assert.deepEqual(SAFETENSORS_DTYPES.map((d) => [d, dtypeSize(d)]), [
    ['F32', 4], ['F16', 2], ['BF16', 2], ['I32', 4], ['I8', 1], ['U8', 1], ['F64', 8], ['I64', 8],
  ]);
});

test('F16 and BF16 widening match llama.cpp for all 65536 bit patterns', async (t) => {
  if (llamaCppUnavailable) return t.skip(llamaCppUnavailable);
  const cpp = await loadLlamaCpp();
  const bytes = allHalfPatterns();
  assert.equal(sameBits(toFloat32('F16', bytes), cpp.dequantize(GgmlTypeId.F16, bytes, 65536)), 0);
  assert.equal(sameBits(toFloat32('BF16', bytes), cpp.dequantize(GgmlTypeId.BF16, bytes, 65536)), 0);
});

test('F16 known values, and misaligned input is handled', () => {
  const raw = new Uint8Array(1 + 8);
  new DataView(raw.buffer).setUint16(1, 0x3c00, true); // 1
  new DataView(raw.buffer).setUint16(3, 0x7bff, true); // 65504, largest finite
  new DataView(raw.buffer).setUint16(5, 0xfc00, true); // -inf
  new DataView(raw.buffer).setUint16(7, 0x0001, true); // smallest subnormal
  assert.deepEqual(toFloat32('F16', raw.subarray(1)), new Float32Array([1, 65504, -Infinity, 2 ** -24]));
  const f32 = new Uint8Array(5);
  new DataView(f32.buffer).setFloat32(1, -0.375, true);
  assert.deepEqual(toFloat32('F32', f32.subarray(1)), new Float32Array([-0.375]));
  assert.throws(() => toFloat32('F32', new Uint8Array(6)), RangeError);
});
