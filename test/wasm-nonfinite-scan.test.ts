/**
 * The wasm scans of the pool workers' file jobs against their JS definitions: the output check
 * (wasm firstNonFiniteField, one field per call, through firstNonFiniteFieldWasm) finds the same
 * first block as kernels/nonfinite-fields.mjs firstNonFiniteField, the ggml_validate_row_data bit
 * test, for every type with a float field (so every type with a wasm kernel, and the bf16, f32,
 * f64 and two-scale layouts), on random blocks with NaN/±Inf planted in one field or
 * another; and the input check (wasm firstNonFinite, 16 floats per step) finds the first NaN/±Inf
 * float at every position of a step and in the tail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from './kernels-inputs.ts';
import { PIECE_ELEMS, WasmKernels } from '../kernels/fast/wasm-kernels.mjs';
import { loadWasmModule } from '../kernels/fast/wasm-module.ts';
import { firstNonFiniteField, firstNonFiniteFieldWasm } from '../kernels/nonfinite-fields.mjs';
import { floatFields, kindBytes } from '../kernels/block-layouts.ts';
import { GGML_TYPES } from '../kernels/ggml-types.ts';

const k = new WasmKernels(loadWasmModule());
const scanFields = k.exports.firstNonFiniteField!;

/** Bit patterns of NaN, +Inf and −Inf per float kind, little-endian bytes. */
function nonFiniteBytes(kind: string, rng: Rng): number[] {
  const pick = rng.int(3);
  switch (kind) {
    case 'f16': return [[0x00, 0x7c], [0x00, 0xfc], [1 + rng.int(255), 0x7c | (rng.int(2) << 7) | rng.int(4)]][pick]!;
    case 'bf16': return [[0x80, 0x7f], [0x80, 0xff], [0x80 | (1 + rng.int(127)), 0x7f | (rng.int(2) << 7)]][pick]!;
    case 'f32': return [[0, 0, 0x80, 0x7f], [0, 0, 0x80, 0xff], [1 + rng.int(255), 0, 0xc0, 0x7f]][pick]!;
    case 'f64': return [[0, 0, 0, 0, 0, 0, 0xf0, 0x7f], [0, 0, 0, 0, 0, 0, 0xf0, 0xff], [0, 0, 0, 0, 0, 0, 0xf8, 0x7f]][pick]!;
    default: throw new Error(kind);
  }
}

/** Largest finite value's bytes per kind (exponent one short of all-ones). */
const FINITE_MAX: Record<string, number[]> = { f16: [0xff, 0x7b], bf16: [0x7f, 0x7f], f32: [0xff, 0xff, 0x7f, 0x7f], f64: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xef, 0x7f] };

/** Every type with a float field: all the wasm kernels' types, and the bf16/f32/f64 and two-scale layouts. */
const types = GGML_TYPES.filter((t) => floatFields(t.layout).length > 0);

test('wasm firstNonFiniteField = nonfinite-fields.mjs firstNonFiniteField on random blocks with planted NaN/Inf scales, every type', () => {
  assert.ok([...k.names, 'F32', 'F64'].every((n) => types.some((t) => t.name === n)));
  const rng = new Rng(0x5ca1e);
  const heap = new Uint8Array(k.memory.buffer);
  for (const t of types) {
    const fields = floatFields(t.layout);
    for (let trial = 0; trial < 40; trial++) {
      const blocks = 1 + rng.int(trial < 10 ? 8 : Math.min(3000, Math.floor((PIECE_ELEMS * 4) / t.typeSize))); // within the output region
      const bytes = heap.subarray(k.outPtr, k.outPtr + blocks * t.typeSize);
      const words = new Uint32Array(k.memory.buffer, k.outPtr, Math.ceil(bytes.length / 4));
      for (let i = 0; i < words.length; i++) words[i] = rng.u32();
      if (trial % 3 !== 0) {
        // Clean every float field (random bytes are NaN/Inf often), sometimes to the largest finite value.
        for (let b = 0; b < blocks; b++) {
          for (const f of fields) {
            const o = b * t.typeSize + f.offset;
            if (rng.int(8) === 0) bytes.set(FINITE_MAX[f.kind]!, o);
            else bytes[o + kindBytes(f.kind) - 1] = bytes[o + kindBytes(f.kind) - 1]! & 0x80; // sign kept, top exponent bits clear
          }
        }
        // Then plant 0..3 non-finite values in random blocks and fields.
        for (let p = trial % 4; p > 0; p--) {
          const f = fields[rng.int(fields.length)]!;
          bytes.set(nonFiniteBytes(f.kind, rng), rng.int(blocks) * t.typeSize + f.offset);
        }
      }
      const want = firstNonFiniteField(fields, t.typeSize, heap, k.outPtr, blocks);
      assert.equal(firstNonFiniteFieldWasm(scanFields, fields, t.typeSize, k.outPtr, blocks), want, `${t.name} trial ${trial}`);
      if (trial % 3 === 2) assert.equal(want >= 0, trial % 4 !== 0, `${t.name} trial ${trial}: planted values found`);
    }
  }
});

test('wasm firstNonFiniteField: the second field of a two-scale block, before the first field\'s bad block', () => {
  for (const t of types.filter((x) => floatFields(x.layout).length > 1)) {
    const fields = floatFields(t.layout);
    const blocks = 100;
    const bytes = new Uint8Array(k.memory.buffer, k.outPtr, blocks * t.typeSize).fill(0);
    bytes.set(nonFiniteBytes(fields[0]!.kind, new Rng(1)), 70 * t.typeSize + fields[0]!.offset);
    bytes.set(nonFiniteBytes(fields[1]!.kind, new Rng(2)), 40 * t.typeSize + fields[1]!.offset);
    assert.equal(firstNonFiniteFieldWasm(scanFields, fields, t.typeSize, k.outPtr, blocks), 40, t.name);
    bytes.set(nonFiniteBytes(fields[0]!.kind, new Rng(3)), 10 * t.typeSize + fields[0]!.offset);
    assert.equal(firstNonFiniteFieldWasm(scanFields, fields, t.typeSize, k.outPtr, blocks), 10, t.name);
  }
});

test('wasm firstNonFinite: the first NaN/±Inf input at every position of a 16-float step and in the tail', () => {
  const rng = new Rng(77);
  const firstNonFinite = k.exports.firstNonFinite!;
  const bad = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
  for (const n of [0, 1, 15, 16, 17, 63, 64, 100, 4096 + 13]) {
    const x = new Float32Array(k.memory.buffer, k.inPtr, n);
    for (let i = 0; i < n; i++) x[i] = i % 5 === 0 ? (rng.int(2) ? 3.4e38 : -3.4e38) : rng.gauss(); // finite, some near the largest float
    assert.equal(firstNonFinite(k.inPtr, n), -1, `n=${n} clean`);
    for (let at = 0; at < Math.min(n, 80); at++) {
      const keep = x[at]!;
      x[at] = bad[at % 3]!;
      if (at + 7 < n) x[at + 7] = Number.NaN; // a later one in the same step must not win
      assert.equal(firstNonFinite(k.inPtr, n), at, `n=${n} at=${at}`);
      x[at] = keep;
      if (at + 7 < n) x[at + 7] = 1;
    }
    if (n > 0) {
      x[n - 1] = Number.NEGATIVE_INFINITY;
      assert.equal(firstNonFinite(k.inPtr, n), n - 1, `n=${n} last`);
      assert.equal(firstNonFinite(k.inPtr, n - 1), -1, `n=${n} stops at n`);
    }
  }
});
