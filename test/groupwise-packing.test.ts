/**
 * Bit orders of the AWQ GEMM and GPTQ v1/v2 layouts against the known words of the reference
 * (awq-gptq-reference §1.1, §2.1, §2.2), and pack -> unpack identity over every
 * bits x group size x sym/asym x act-order combination.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { awqPackRows, packAwqGemm, unpackAwqGemm } from '../kernels/groupwise/awq-gemm.ts';
import { packGptq, unpackGptq, type GptqFormat } from '../kernels/groupwise/gptq.ts';
import { packStream, readStream } from '../kernels/groupwise/bitstream.ts';
import { awqRtnSolver } from '../kernels/groupwise/rtn-awq.ts';
import { gptqRtnSolver } from '../kernels/groupwise/rtn-gptq.ts';
import { awqGemmToGptqV1 } from './support/awq-to-gptq.ts';
import { gemvZerosWidth, packAwqGemv, unpackAwqGemv } from '../kernels/groupwise/awq-gemv.ts';
import { dequantizeRows } from '../kernels/groupwise/dequantize.ts';
import { GROUP_BITS, type GroupBits, type QuantizedMatrix } from '../kernels/groupwise/spec.ts';
import { randomWeights } from './groupwise-fixtures.ts';

const hex = (words: Int32Array | Uint32Array) => Array.from(words, (w) => '0x' + (w >>> 0).toString(16).toUpperCase().padStart(8, '0'));

/** An independent model of the GPTQ stream: one BigInt of out*bits bits, cut into 32-bit words. */
function bigintStream(values: number[], bits: number): string[] {
  let acc = 0n;
  values.forEach((v, k) => { acc |= BigInt(v) << BigInt(k * bits); });
  const words: string[] = [];
  for (let w = 0; w < Math.ceil((values.length * bits) / 32); w++) {
    words.push('0x' + ((acc >> BigInt(32 * w)) & 0xffffffffn).toString(16).toUpperCase().padStart(8, '0'));
  }
  return words;
}

/** A matrix with every zero point equal to `z` (out = 32 channels, one group). */
function constantZeros(bits: GroupBits, z: number, out = 32): QuantizedMatrix {
  const inF = 32;
  return {
    rows: out, cols: inF, bits, groupSize: -1, groups: 1,
    codes: new Uint8Array(out * inF), scales: new Float32Array(out).fill(1),
    zeros: new Uint16Array(out).fill(z), gIdx: new Int32Array(inF),
  };
}

test('AWQ interleave: columns 0..7 holding 0..7 pack to 0x75316420', () => {
  const w = awqPackRows((_r, c) => c, 1, 8, 4);
  assert.deepEqual(hex(w), ['0x75316420']);
  // and through the full qweight path: codes[out=c, in=0] = c
  const m: QuantizedMatrix = { rows: 8, cols: 1, bits: 4, groupSize: -1, groups: 1,
    codes: Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7]), scales: new Float32Array(8).fill(1),
    zeros: new Uint16Array(8), gIdx: new Int32Array(1) };
  assert.deepEqual(hex(packAwqGemm(m).qweight), ['0x75316420']);
});

test('GPTQ symmetric qzeros words, v1 and v2, for 2/3/4/8 bits (reference §2.2)', () => {
  const expected: Record<GroupBits, { v1: string[]; v2: string[] }> = {
    2: { v1: ['0x55555555'], v2: ['0xAAAAAAAA'] },
    3: { v1: ['0xDB6DB6DB', '0xB6DB6DB6', '0x6DB6DB6D'], v2: ['0x24924924', '0x49249249', '0x92492492'] },
    4: { v1: ['0x77777777'], v2: ['0x88888888'] },
    8: { v1: ['0x7F7F7F7F'], v2: ['0x80808080'] },
  };
  for (const bits of GROUP_BITS) {
    const m = constantZeros(bits, 1 << (bits - 1));
    const v1 = hex(packGptq(m, 'gptq').qzeros);
    const v2 = hex(packGptq(m, 'gptq_v2').qzeros);
    const per = bits === 3 ? 3 : 1;
    for (let i = 0; i < v1.length; i++) {
      assert.equal(v1[i], expected[bits].v1[i % per], `${bits}-bit v1 word ${i}`);
      assert.equal(v2[i], expected[bits].v2[i % per], `${bits}-bit v2 word ${i}`);
    }
  }
});

test('3-bit v2 - v1 word differences are not a constant (0x49249249 0x92492493 0x24924925)', () => {
  const m = constantZeros(3, 4);
  const v1 = packGptq(m, 'gptq').qzeros, v2 = packGptq(m, 'gptq_v2').qzeros;
  assert.deepEqual(hex(Uint32Array.from([0, 1, 2], (i) => (v2[i] - v1[i]) >>> 0)), ['0x49249249', '0x92492493', '0x24924925']);
});

test('3-bit stream straddles words at values 10 and 21, matching an independent BigInt model', () => {
  // values chosen so every field differs: v_k = (k * 5 + 3) % 8
  const values = Array.from({ length: 64 }, (_, k) => (k * 5 + 3) % 8);
  const words = new Uint32Array(6);
  packStream((k) => values[k], 64, 3, words, 0, 1);
  assert.deepEqual(hex(words), bigintStream(values, 3));
  // the layout spelled out: low 2 bits of v10 at bits 30-31 of word 0, its high bit at bit 0 of word 1
  assert.equal(words[0] >>> 30, values[10] & 3);
  assert.equal(words[1] & 1, values[10] >> 2);
  assert.equal(words[1] >>> 31, values[21] & 1);
  assert.equal(words[2] & 3, values[21] >> 1);
  assert.equal((words[2] >>> 2) & 7, values[22]);
  for (let k = 0; k < 64; k++) assert.equal(readStream(words, 0, 1, k, 3), values[k]);
  // same stream strided down a qweight column
  for (const bits of GROUP_BITS) {
    const vals = Array.from({ length: 64 }, (_, k) => (k * 7 + 1) % (1 << bits));
    const strided = new Uint32Array((64 * bits / 32) * 3);
    packStream((k) => vals[k], 64, bits, strided, 1, 3);
    const column = Array.from({ length: 64 * bits / 32 }, (_, w) => strided[w * 3 + 1]);
    assert.deepEqual(hex(Uint32Array.from(column)), bigintStream(vals, bits), `${bits}-bit column`);
  }
});

test('GPTQ v1 refuses a zero point of 0 instead of clobbering the word', () => {
  const m = constantZeros(4, 5);
  m.zeros[2] = 0;
  assert.throws(() => packGptq(m, 'gptq'), /zero point 0 of group 0, output channel 2/);
  assert.doesNotThrow(() => packGptq(m, 'gptq_v2'));
});

function sameMatrix(a: QuantizedMatrix, b: QuantizedMatrix, what: string): void {
  assert.deepEqual(b.codes, a.codes, `${what}: codes`);
  assert.deepEqual(b.zeros, a.zeros, `${what}: zeros`);
  assert.deepEqual(b.scales, a.scales, `${what}: scales`);
  assert.deepEqual(b.gIdx, a.gIdx, `${what}: g_idx`);
  assert.deepEqual(dequantizeRows(b), dequantizeRows(a), `${what}: dequantized`);
}

test('pack -> unpack is the identity for every bits x group size x sym/asym x act-order', () => {
  const out = 64, inF = 256;
  const w = randomWeights(out * inF, 7);
  let combos = 0;
  for (const bits of GROUP_BITS) for (const groupSize of [32, 64, 128, -1]) for (const sym of [true, false]) for (const descAct of [false, true]) {
    const spec = { bits, groupSize, sym, descAct };
    const what = JSON.stringify(spec);
    const g = gptqRtnSolver().quantize(w, out, inF, spec);
    if (descAct && groupSize !== -1) assert.ok(g.gIdx.some((v, k) => k > 0 && v < g.gIdx[k - 1]), `${what}: g_idx is scattered`);
    for (const format of ['gptq', 'gptq_v2'] as GptqFormat[]) {
      sameMatrix(g, unpackGptq(packGptq(g, format), out, inF, bits, groupSize, format), `${what} ${format}`);
    }
    if (bits === 4 && !descAct) {
      const a = awqRtnSolver.quantize(w, out, inF, spec);
      sameMatrix(a, unpackAwqGemm(packAwqGemm(a), out, inF, groupSize), `${what} awq`);
    }
    combos++;
  }
  assert.equal(combos, 64);
});

test('shapes match the reference tables', () => {
  const w = randomWeights(64 * 256, 3);
  const a = packAwqGemm(awqRtnSolver.quantize(w, 64, 256, { bits: 4, groupSize: 128, sym: false }));
  assert.equal(a.qweight.length, 256 * 8); assert.equal(a.qzeros.length, 2 * 8); assert.equal(a.scales.length, 2 * 64);
  for (const bits of GROUP_BITS) {
    const t = packGptq(gptqRtnSolver().quantize(w, 64, 256, { bits, groupSize: 32, sym: true }));
    assert.equal(t.qweight.length, (256 * bits / 32) * 64, `${bits}-bit qweight`);
    assert.equal(t.qzeros.length, 8 * (64 * bits / 32), `${bits}-bit qzeros`);
  }
});

test('AWQ -> GPTQ v1 repacking of the same codes equals direct GPTQ v1 packing', () => {
  const out = 64, inF = 256;
  for (const groupSize of [32, 64, 128, -1]) {
    const m = awqRtnSolver.quantize(randomWeights(out * inF, 11 + groupSize), out, inF, { bits: 4, groupSize, sym: false });
    assert.ok(m.zeros.every((z) => z >= 1), 'mixed-sign groups give zeros >= 1');
    const direct = packGptq(m, 'gptq');
    const repacked = awqGemmToGptqV1(packAwqGemm(m), out, inF, groupSize);
    assert.deepEqual(hex(repacked.qweight), hex(direct.qweight), `gs ${groupSize} qweight`);
    assert.deepEqual(hex(repacked.qzeros), hex(direct.qzeros), `gs ${groupSize} qzeros`);
    assert.deepEqual(repacked.scales, direct.scales);
    assert.deepEqual(repacked.gIdx, direct.gIdx);
  }
  // an AWQ zero of 0 (an all-positive group) is refused rather than silently corrupted
  const pos = new Float32Array(64 * 32).map((_, i) => 0.01 + (i % 13) * 0.001);
  const m = awqRtnSolver.quantize(pos, 64, 32, { bits: 4, groupSize: 32, sym: false });
  assert.equal(m.zeros[0], 0);
  assert.throws(() => awqGemmToGptqV1(packAwqGemm(m), 64, 32, 32), RangeError);
});

test('AWQ 8-bit (vLLM awq_pack order [0, 2, 1, 3]) round trips too', () => {
  assert.deepEqual(hex(awqPackRows((_r, c) => c + 1, 1, 4, 8)), ['0x04020301']);
  const m = gptqRtnSolver().quantize(randomWeights(32 * 64, 4), 32, 64, { bits: 8, groupSize: 32, sym: false });
  sameMatrix(m, unpackAwqGemm(packAwqGemm(m), 32, 64, 32, 8), 'awq 8-bit');
});

test('AWQ GEMV (read only): zeros width as AutoAWQ calculate_zeros_width, natural-order round trip', () => {
  assert.deepEqual([[4096, 128], [4096, 64], [4096, 32], [11008, 128], [256, 64], [256, 32]].map(([i, g]) => gemvZerosWidth(i!, g!)), [4, 8, 16, 11, 2, 4]);
  for (const groupSize of [32, 64, 128]) {
    const m = awqRtnSolver.quantize(randomWeights(16 * 256, 8 + groupSize), 16, 256, { bits: 4, groupSize, sym: false });
    const t = packAwqGemv(m);
    assert.equal(t.qzeros.length, 16 * gemvZerosWidth(256, groupSize));
    sameMatrix(m, unpackAwqGemv(t, 16, 256, groupSize), `gemv g${groupSize}`);
  }
  // natural order: columns 0..7 holding 0..7 pack to 0x76543210 (unlike GEMM's interleave)
  const m = { rows: 1, cols: 8, bits: 4 as const, groupSize: 8, groups: 1, codes: Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7]), scales: new Float32Array(1), zeros: new Uint16Array(1), gIdx: new Int32Array(8) };
  assert.throws(() => packAwqGemv(m), RangeError, 'group size 8 is not a GEMV group size');
  const words = packAwqGemv({ ...m, cols: 128, groupSize: 128, codes: Uint8Array.from({ length: 128 }, (_, k) => k % 8), gIdx: new Int32Array(128) }).qweight;
  assert.deepEqual(hex(words.subarray(0, 1)), ['0x76543210']);
});
