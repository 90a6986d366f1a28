/**
 * Issue 3 item 2: our dequantizers equal llama.cpp's `to_float` (`dequantize_row_*`) bit for bit,
 * on llama.cpp's own quantized outputs of the test inputs and on random block bytes (fp16/f32 scale
 * fields forced finite, everything else random). Two NaNs compare equal whatever their payloads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadLlamaCpp, llamaCppUnavailable } from './support/llama-cpp.ts';
import { dequantize, canDequantize, quantKernel } from '../kernels/quant-table.ts';
import { ggmlType, GgmlTypeId, GGML_TYPES } from '../kernels/ggml-types.ts';
import { makeInputs, Rng } from './kernels-inputs.ts';
import { differingFloats } from './kernels-oracle.ts';

const N = 1 << 20;

/** Byte offsets of the fp16 scale fields in each block type (Q8_K's f32 d is handled apart). */
const FP16_FIELDS: Record<string, readonly number[]> = {
  Q4_0: [0], Q4_1: [0, 2], Q5_0: [0], Q5_1: [0, 2], Q8_0: [0],
  Q2_K: [80, 82], Q3_K: [108], Q4_K: [0, 2], Q5_K: [0, 2], Q6_K: [208],
  IQ4_NL: [0], IQ4_XS: [0], Q8_K: [], MXFP4: [],
};

/**
 * `dequantize_row_q8_K` called directly: this llama.cpp build has no `to_float` trait for Q8_K
 * (it is an intermediate type), but libggml-base exports the function.
 */
async function llamaDequantizeQ8_K(bytes: Uint8Array, n: number): Promise<Float32Array> {
  const ll = await loadLlamaCpp();
  const koffi = (await import('koffi')).default;
  const fn = koffi.load(`${ll.binsDir}/libggml-base.so`).func('void dequantize_row_q8_K(const uint8_t *x, _Out_ float *y, int64_t k)');
  const y = new Float32Array(n);
  fn(bytes, y, n);
  return y;
}

function assertSameFloats(name: string, ours: Float32Array, theirs: Float32Array): void {
  const bad = differingFloats(ours, theirs);
  const i = bad[0];
  assert.equal(bad.length, 0, `${name}: ${bad.length} of ${ours.length} values differ` +
    (i === undefined ? '' : `; first at ${i}: ours ${ours[i]}, llama.cpp ${theirs[i]}`));
}

for (const name of ['Q8_0', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K', 'MXFP4', 'IQ4_NL', 'IQ4_XS'] as const) {
  test(`${name}: dequantizing llama.cpp's quantized test inputs matches to_float bit for bit`, async (t) => {
    if (llamaCppUnavailable) return t.skip(llamaCppUnavailable);
    const ll = await loadLlamaCpp();
    const id = GgmlTypeId[name];
    const bytes = ll.quantizeChunk(id, makeInputs(3000 + id, N), N / 4096, 4096);
    assertSameFloats(name, dequantize(id, bytes, N), ll.dequantize(id, bytes, N));
  });
}

for (const name of Object.keys(FP16_FIELDS)) {
  test(`${name}: dequantizing random block bytes matches to_float bit for bit`, async (t) => {
    if (llamaCppUnavailable) return t.skip(llamaCppUnavailable);
    const ll = await loadLlamaCpp();
    const type = ggmlType(GgmlTypeId[name as keyof typeof GgmlTypeId])!;
    assert.ok(canDequantize(type.id));
    const nBlocks = Math.ceil((1 << 18) / type.blockSize);
    const bytes = new Uint8Array(nBlocks * type.typeSize);
    const rng = new Rng(4000 + type.id);
    for (let i = 0; i < bytes.length; i++) bytes[i] = rng.u32() & 255;
    for (let b = 0; b < nBlocks; b++) {
      const o = b * type.typeSize;
      for (const f of FP16_FIELDS[name]!) {
        // Any finite fp16 (exponent field != 31), biased toward normal weights' magnitudes half the time.
        let h = rng.u32() & 0xffff;
        if ((h & 0x7c00) === 0x7c00) h &= 0xbfff;
        if (rng.next() < 0.5) h = (h & 0x83ff) | ((8 + rng.int(8)) << 10);
        bytes[o + f] = h & 255;
        bytes[o + f + 1] = h >>> 8;
      }
      if (name === 'Q8_K') {
        const d = new Float32Array([(rng.next() * 2 - 1) * 10 ** (rng.int(12) - 8)]);
        bytes.set(new Uint8Array(d.buffer), o);
      }
    }
    const n = nBlocks * type.blockSize;
    const theirs = name === 'Q8_K' ? await llamaDequantizeQ8_K(bytes, n) : ll.dequantize(type.id, bytes, n);
    assertSameFloats(name, dequantize(type.id, bytes, n), theirs);
  });
}

test('dequantize checks its arguments', () => {
  assert.throws(() => dequantize(GgmlTypeId.Q4_K, new Uint8Array(144), 100), /multiple of block size 256/);
  assert.throws(() => dequantize(GgmlTypeId.Q4_K, new Uint8Array(143), 256), /source has 143 bytes/);
  // A block type no kernel dequantizes (kernels are added over time, so pick one now).
  const none = GGML_TYPES.find((t) => t.blockSize > 1 && !canDequantize(t.id))!;
  assert.throws(() => dequantize(none.id, new Uint8Array(none.typeSize * (256 / none.blockSize)), 256), /no dequantizer/);
  assert.equal(quantKernel(GgmlTypeId.Q8_K)?.quantize, undefined);
});
