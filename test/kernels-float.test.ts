/**
 * Issue 3 item 1 (F16/BF16): our fp32→fp16 and fp32→bf16 conversions equal llama.cpp's
 * (`ggml_fp32_to_fp16`, `ggml_quantize_chunk` for types 1 and 30) on edge cases and millions of
 * random bit patterns, including NaN payloads, subnormals, the fp16 overflow boundary and ties;
 * and the widening back to f32 equals llama.cpp's `to_float` for every one of the 65536 codes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadLlamaCpp, llamaCppUnavailable } from './support/llama-cpp.ts';
import { bf16ToFp32, fp16ToFp32, fp32ToBf16, fp32ToFp16 } from '../kernels/fp16.ts';
import { dequantize, quantizeRows } from '../kernels/quant-table.ts';
import { GgmlTypeId } from '../kernels/ggml-types.ts';
import { Rng } from './kernels-inputs.ts';

const fromBits = (bits: readonly number[]) => new Float32Array(Uint32Array.from(bits).buffer);

/** Bit patterns around every boundary the conversions have. */
const EDGE_BITS = [
  0x00000000, 0x80000000, 0x00000001, 0x80000001, 0x007fffff, 0x00800000, // zeros, f32 subnormals
  0x33000000, 0x33000001, 0x32ffffff, 0x33800000, 0x337fffff, 0x33c00000, // around 2^-25 and 2^-24 (half subnormal ties)
  0x387fc000, 0x387fe000, 0x387fffff, 0x38800000, 0x38801000, 0x38802000, // around the smallest normal half
  0x3f800000, 0x3f801000, 0x3f803000, 0x3f800fff, 0x3f801001, 0xbf801000, // 1.0 and its ties
  0x477fe000, 0x477fefff, 0x477ff000, 0x477ff001, 0x477fffff, 0x47800000, // 65504 … 65520 … 65536
  0xc77ff000, 0x7f7fffff, 0xff7fffff, 0x7f800000, 0xff800000, // huge, inf
  0x7fc00000, 0xffc00000, 0x7f800001, 0x7fbfffff, 0x7fffffff, 0xff800001, 0x7fc12345, // NaNs with payloads
  0x3f808000, 0x3f818000, 0x3f80ffff, 0x3f817fff, 0x7f7f8000, 0x7f7f7fff, 0x3f7f8000, // bf16 ties and overflow
];

function randomBitFloats(seed: number, n: number): Float32Array {
  const rng = new Rng(seed);
  const u = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const r = rng.u32();
    // Half uniform bit patterns; half with the exponent in half-float range so rounding is exercised.
    u[i] = i & 1 ? r : ((r & 0x807fffff) | ((103 + (rng.u32() % 40)) << 23)) >>> 0;
  }
  u.set(Uint32Array.from(EDGE_BITS));
  return new Float32Array(u.buffer);
}

test('F16: fp32ToFp16 equals ggml_fp32_to_fp16 on edge cases', async (t) => {
  if (llamaCppUnavailable) return t.skip(llamaCppUnavailable);
  const ll = await loadLlamaCpp();
  for (const x of fromBits(EDGE_BITS)) {
    assert.equal(fp32ToFp16(x), ll.fp32ToFp16(x), `fp32ToFp16(${x})`);
  }
  assert.equal(fp32ToFp16(NaN), 0x7e00);
  assert.equal(fp32ToFp16(-NaN) & 0x7fff, 0x7e00);
  assert.equal(fp32ToFp16(65519.996), 0x7bff);
  assert.equal(fp32ToFp16(65520), 0x7c00);
  assert.equal(fp32ToFp16(2 ** -25), 0); // tie at half the smallest subnormal rounds to even (0)
  assert.equal(fp32ToFp16(Math.fround(2 ** -25 * 1.0000001)), 1);
});

test('F16: quantizeRows(F16) equals ggml_quantize_chunk on 4M random bit patterns', async (t) => {
  if (llamaCppUnavailable) return t.skip(llamaCppUnavailable);
  const ll = await loadLlamaCpp();
  const n = 1 << 22;
  const src = randomBitFloats(11, n);
  const ours = quantizeRows(GgmlTypeId.F16, src, 1, n);
  const theirs = ll.quantizeChunk(GgmlTypeId.F16, src, 1, n);
  let bad = 0, first = -1;
  for (let i = 0; i < ours.length; i++) if (ours[i] !== theirs[i]) { bad++; if (first < 0) first = i >> 1; }
  assert.equal(bad, 0, `F16: ${bad} bytes differ; first value ${first}: ${src[first]}`);
});

test('BF16: quantizeRows(BF16) equals ggml_quantize_chunk on 4M random bit patterns', async (t) => {
  if (llamaCppUnavailable) return t.skip(llamaCppUnavailable);
  const ll = await loadLlamaCpp();
  const n = 1 << 22;
  const src = randomBitFloats(12, n);
  const ours = quantizeRows(GgmlTypeId.BF16, src, 1, n);
  const theirs = ll.quantizeChunk(GgmlTypeId.BF16, src, 1, n);
  let bad = 0, first = -1;
  for (let i = 0; i < ours.length; i++) if (ours[i] !== theirs[i]) { bad++; if (first < 0) first = i >> 1; }
  assert.equal(bad, 0, `BF16: ${bad} bytes differ; first value ${first}: ${src[first]}`);
  // The scalar API agrees with the row kernel.
  const bits = new Uint16Array(ours.buffer);
  for (let i = 0; i < 1000; i++) if (src[i] === src[i]) assert.equal(fp32ToBf16(src[i]!), bits[i]);
});

for (const [name, id] of [['F16', GgmlTypeId.F16], ['BF16', GgmlTypeId.BF16]] as const) {
  test(`${name}: widening all 65536 codes equals llama.cpp's to_float bit for bit (NaN payloads included)`, async (t) => {
    if (llamaCppUnavailable) return t.skip(llamaCppUnavailable);
    const ll = await loadLlamaCpp();
    const codes = new Uint16Array(65536).map((_, i) => i);
    const bytes = new Uint8Array(codes.buffer);
    const ours = new Uint32Array(dequantize(id, bytes, 65536).buffer);
    const theirs = new Uint32Array(ll.dequantize(id, bytes, 65536).buffer);
    let bad = 0, first = -1;
    for (let i = 0; i < 65536; i++) if (ours[i] !== theirs[i]) { bad++; if (first < 0) first = i; }
    assert.equal(bad, 0, `${name}: ${bad} codes differ; first 0x${first.toString(16)}: ours 0x${ours[first]?.toString(16)}, llama.cpp 0x${theirs[first]?.toString(16)}`);
    // The scalar API gives the same values.
    const widen = name === 'F16' ? fp16ToFp32 : bf16ToFp32;
    const asF = new Float32Array(theirs.buffer);
    for (let h = 0; h < 65536; h += 7) {
      const v = widen(h);
      assert.ok(Object.is(v, asF[h]) || (v !== v && asF[h] !== asF[h]), `${name} code 0x${h.toString(16)}`);
    }
  });
}

test('F32: quantize is a copy and dequantize its inverse, bit for bit', () => {
  const src = randomBitFloats(13, 4096);
  const bytes = quantizeRows(GgmlTypeId.F32, src, 4, 1024);
  assert.deepEqual(bytes, new Uint8Array(src.buffer));
  assert.deepEqual(new Uint32Array(dequantize(GgmlTypeId.F32, bytes, 4096).buffer), new Uint32Array(src.buffer));
});
