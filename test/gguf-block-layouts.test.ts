/**
 * `decodeBlock` field decoding is checked against llama.cpp itself: quantize a block with
 * llama.cpp, decode it into fields with our binary-parser layouts, rebuild every element from
 * those fields with the formulas of the reference (§2.2), and compare with llama.cpp's own
 * dequantization. A wrong field offset, nibble order or scale unpacking shows up as a mismatch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBlock, BLOCK_VIEW_TYPES } from '../formats/gguf/block-layouts.ts';
import { GgmlTypeId as T, ggmlType } from '../kernels/ggml-types.ts';
import { loadLlamaCpp, llamaCppUnavailable } from './support/llama-cpp.ts';

type F = Record<string, any>;
const nib = (b: number, hi: boolean) => (hi ? b >> 4 : b & 15);

/** Element values from decoded fields (reference §2.2). */
const REBUILD: Record<number, (f: F, e: number) => number> = {
  [T.Q4_0]: (f, e) => f.d * (nib(f.qs[e % 16], e >= 16) - 8),
  [T.Q4_1]: (f, e) => f.d * nib(f.qs[e % 16], e >= 16) + f.m,
  [T.Q5_0]: (f, e) => f.d * ((nib(f.qs[e % 16], e >= 16) | (((f.qh >>> e) & 1) << 4)) - 16),
  [T.Q5_1]: (f, e) => f.d * (nib(f.qs[e % 16], e >= 16) | (((f.qh >>> e) & 1) << 4)) + f.m,
  [T.Q8_0]: (f, e) => f.d * f.qs[e],
  [T.Q2_K]: (f, e) => {
    const [h, j, l, s] = [e >> 7, (e >> 5) & 3, e & 31, e >> 4];
    return f.d * f.subScales[s] * ((f.qs[32 * h + l] >> (2 * j)) & 3) - f.dmin * f.subMins[s];
  },
  [T.Q3_K]: (f, e) => {
    const [h, j, l] = [e >> 7, (e >> 5) & 3, e & 31];
    const q = ((f.qs[32 * h + l] >> (2 * j)) & 3) | (((f.hmask[l] >> (4 * h + j)) & 1) << 2);
    return f.d * f.subScales[e >> 4] * (q - 4);
  },
  [T.Q4_K]: (f, e) => {
    const [c, n, l] = [e >> 6, (e >> 5) & 1, e & 31];
    const s = 2 * c + n;
    return f.d * f.subScales[s] * nib(f.qs[32 * c + l], n === 1) - f.dmin * f.subMins[s];
  },
  [T.Q5_K]: (f, e) => {
    const [c, n, l] = [e >> 6, (e >> 5) & 1, e & 31];
    const s = 2 * c + n;
    const q = nib(f.qs[32 * c + l], n === 1) + 16 * ((f.qh[l] >> s) & 1);
    return f.d * f.subScales[s] * q - f.dmin * f.subMins[s];
  },
  [T.Q6_K]: (f, e) => {
    const [h, k, l] = [e >> 7, (e >> 5) & 3, e & 31];
    const q = nib(f.ql[64 * h + l + 32 * (k & 1)], k >= 2) | (((f.qh[32 * h + l] >> (2 * k)) & 3) << 4);
    return f.d * f.scales[e >> 4] * (q - 32);
  },
};

/** Deterministic pseudo-random values with a few outliers, like real weights. */
function sample(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const r = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  return Float32Array.from({ length: n }, (_, i) => (r() - 0.5) * (i % 37 === 0 ? 8 : 1) + 0.1);
}

test('every quant type in the block view rebuilds llama.cpp dequantization from its decoded fields', async (t) => {
  if (llamaCppUnavailable) return t.skip(llamaCppUnavailable);
  const ll = await loadLlamaCpp();
  for (const [idStr, rebuild] of Object.entries(REBUILD)) {
    const id = Number(idStr);
    const type = ggmlType(id)!;
    for (const seed of [1, 2, 3]) {
      const bytes = ll.quantizeChunk(id, sample(type.blockSize, seed), 1, type.blockSize);
      const ref = ll.dequantize(id, bytes, type.blockSize);
      const fields = decodeBlock(id, bytes);
      const scale = Math.max(...ref.map(Math.abs));
      for (let e = 0; e < type.blockSize; e++) {
        const got = rebuild(fields, e);
        assert.ok(Math.abs(got - ref[e]!) <= 1e-5 * scale, `${type.name} seed ${seed} element ${e}: fields give ${got}, llama.cpp ${ref[e]}`);
      }
    }
  }
});

test('K-quant 6-bit scales and mins are unpacked into numbers in range', async (t) => {
  if (llamaCppUnavailable) return t.skip(llamaCppUnavailable);
  const ll = await loadLlamaCpp();
  for (const id of [T.Q4_K, T.Q5_K]) {
    const f = decodeBlock(id, ll.quantizeChunk(id, sample(256, 9), 1, 256)) as F;
    assert.equal(f.subScales.length, 8);
    assert.equal(f.subMins.length, 8);
    assert.ok([...f.subScales, ...f.subMins].every((v: number) => Number.isInteger(v) && v >= 0 && v < 64));
    assert.ok(f.subScales.some((v: number) => v >= 16), 'some scale uses the packed high bits');
    assert.equal(typeof f.d, 'number');
    assert.equal(typeof f.dmin, 'number');
  }
  const q3 = decodeBlock(T.Q3_K, ll.quantizeChunk(T.Q3_K, sample(256, 4), 1, 256)) as F;
  assert.ok(q3.subScales.every((v: number) => v >= -32 && v <= 31));
});

test('plain types decode one element: F32, F16 (as llama.cpp rounds it), BF16', async (t) => {
  const f32 = new Uint8Array(new Float32Array([-2.5]).buffer);
  assert.deepEqual(decodeBlock(T.F32, f32), { value: -2.5 });
  assert.deepEqual(decodeBlock(T.F16, new Uint8Array([0x00, 0xc1])), { bits: 0xc100, value: -2.5 });
  assert.deepEqual(decodeBlock(T.F16, new Uint8Array([0x01, 0x00])), { bits: 1, value: 2 ** -24 });
  assert.deepEqual(decodeBlock(T.BF16, new Uint8Array([0x20, 0xc0])), { bits: 0xc020, value: -2.5 });
  if (llamaCppUnavailable) return t.skip(llamaCppUnavailable);
  const ll = await loadLlamaCpp();
  for (const x of [0.1, -3.75, 65504, 1e-6]) {
    const h = ll.fp32ToFp16(x);
    const back = ll.dequantize(T.F16, new Uint8Array(new Uint16Array([h]).buffer), 1)[0];
    assert.equal((decodeBlock(T.F16, new Uint8Array(new Uint16Array([h]).buffer)) as F).value, back);
  }
});

test('block view covers the issue list and refuses others with typed errors', () => {
  for (const n of ['F32', 'F16', 'BF16', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q8_0', 'Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K']) {
    assert.ok(BLOCK_VIEW_TYPES.includes(T[n as keyof typeof T]), n);
  }
  assert.throws(() => decodeBlock(T.IQ4_XS, new Uint8Array(136)), (e: any) => e.kind === 'unsupported');
  assert.throws(() => decodeBlock(T.Q4_0, new Uint8Array(17)), (e: any) => e.kind === 'format');
});
