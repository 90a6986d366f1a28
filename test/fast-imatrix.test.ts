/**
 * Issue 13 (fast path): the wasm imatrix kernels (in this thread, no pool) give the same bytes as
 * the JS reference `quantizeImatrix` and as llama.cpp's `ggml_quantize_chunk(…, imatrix)`, on
 * 2^20 hard values per type (every input kind of kernels-inputs.ts, NaN/Inf included) under
 * importance vectors with zeros, huge ratios between columns, all-zero and tiny values. Rows of
 * one super-block, 4096-wide rows, and rows longer than a wasm piece.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadLlamaCpp, llamaCppUnavailable } from './support/llama-cpp.ts';
import { makeInputs, Rng } from './kernels-inputs.ts';
import { ALL_IMATRIX_KINDS, importance } from './imatrix-inputs.ts';
import { differingBlocks } from './kernels-oracle.ts';
import { loadWasmModule } from '../kernels/fast/wasm-module.ts';
import { WasmKernels, wasmImatrixNames, PIECE_ELEMS } from '../kernels/fast/wasm-kernels.mjs';
import { quantizeRows, quantKernel } from '../kernels/quant-table.ts';
import { ggmlType, GgmlTypeId } from '../kernels/ggml-types.ts';

const TYPES = ['Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K', 'IQ4_NL', 'IQ4_XS'] as const;
const N = 1 << 20;

const kernels = new WasmKernels(loadWasmModule());

function wasmQuantize(id: number, src: Float32Array, nPerRow: number, qw: Float32Array): Uint8Array {
  const t = ggmlType(id)!;
  const out = new Uint8Array((src.length / t.blockSize) * t.typeSize);
  kernels.quantizeImatrix(t, src, 0, src.length, out, 0, qw, nPerRow);
  return out;
}

function assertSame(got: Uint8Array, want: Uint8Array, id: number, what: string): void {
  const t = ggmlType(id)!;
  const bad = differingBlocks(got, want, t.typeSize);
  assert.equal(bad.length, 0, `${t.name} ${what}: ${bad.length} of ${got.length / t.typeSize} blocks differ, first block ${bad[0]}`);
}

test('the module has imatrix kernels for the listed types, and each of its imatrix kernels has a reference', () => {
  const names = wasmImatrixNames(loadWasmModule());
  for (const name of TYPES) assert.ok(names.has(name), `${name} has a wasm imatrix kernel`);
  // The i-quants' kernels are proven in their own files (test/fast-iq*.test.ts).
  for (const name of names) assert.ok(quantKernel(GgmlTypeId[name as keyof typeof GgmlTypeId])?.quantizeImatrix, `${name} has a reference to be equal to`);
});

for (const name of TYPES) {
  const id = GgmlTypeId[name];
  test(`${name}: the wasm imatrix kernel gives llama.cpp's and the reference's bytes on 2^20 hard values`, { skip: llamaCppUnavailable ?? false }, async () => {
    const ll = await loadLlamaCpp();
    for (const nPerRow of [4096, 256]) {
      const per = (N / 2 / ALL_IMATRIX_KINDS.length / nPerRow) | 0;
      for (const [k, kind] of ALL_IMATRIX_KINDS.entries()) {
        const seed = id * 1000 + k * 10 + nPerRow;
        const src = makeInputs(seed, per * nPerRow);
        const qw = importance(kind, nPerRow, seed);
        const got = wasmQuantize(id, src, nPerRow, qw);
        assertSame(got, ll.quantizeChunk(id, src, per, nPerRow, qw), id, `nPerRow=${nPerRow} imatrix=${kind} vs llama.cpp`);
        assertSame(got, quantizeRows(id, src, per, nPerRow, qw), id, `nPerRow=${nPerRow} imatrix=${kind} vs the reference`);
      }
    }
  });
}

test('rows longer than a wasm piece, and the NaN check, through quantizeImatrix', { skip: llamaCppUnavailable ?? false }, async () => {
  const ll = await loadLlamaCpp();
  const nPerRow = PIECE_ELEMS + 512, rows = 2;
  const src = makeInputs(4242, nPerRow * rows);
  const qw = importance('huge-ratios', nPerRow, 4243);
  for (const name of TYPES) {
    const id = GgmlTypeId[name];
    const t = ggmlType(id)!;
    const out = new Uint8Array((src.length / t.blockSize) * t.typeSize);
    const bad = kernels.quantizeImatrix(t, src, 0, src.length, out, 0, qw, nPerRow, true);
    assert.equal(bad, src.findIndex((v) => !Number.isFinite(v)), `${name}: first non-finite input`);
    assertSame(out, ll.quantizeChunk(id, src, rows, nPerRow, qw), id, 'long rows vs llama.cpp');
  }
  // Back to short rows after the long ones moved the staging area: still right.
  const short = makeInputs(4244, 4096 * 8);
  assertSame(wasmQuantize(GgmlTypeId.Q4_K, short, 4096, qw), ll.quantizeChunk(GgmlTypeId.Q4_K, short, 8, 4096, qw), GgmlTypeId.Q4_K, 'after long rows');
  assert.throws(() => wasmQuantize(GgmlTypeId.Q4_K, short.subarray(0, 4096 + 256), 4096, qw), /not whole rows of 4096/);
});

test('Q4_0/Q4_1/Q5_0/Q5_1/IQ4_NL: rows whose blocks do not fill a SIMD group (32, 96, 416 values) give llama.cpp\'s bytes', { skip: llamaCppUnavailable ?? false }, async () => {
  const ll = await loadLlamaCpp();
  for (const name of ['Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'IQ4_NL'] as const) {
    const id = GgmlTypeId[name];
    for (const nPerRow of [32, 96, 416]) {
      for (const [k, kind] of ALL_IMATRIX_KINDS.entries()) {
        const rows = 64;
        const src = makeInputs(id * 7 + nPerRow + k, rows * nPerRow);
        const qw = importance(kind, nPerRow, k + nPerRow);
        const got = wasmQuantize(id, src, nPerRow, qw);
        assertSame(got, ll.quantizeChunk(id, src, rows, nPerRow, qw), id, `nPerRow=${nPerRow} imatrix=${kind} vs llama.cpp`);
        assertSame(got, quantizeRows(id, src, rows, nPerRow, qw), id, `nPerRow=${nPerRow} imatrix=${kind} vs the reference`);
      }
    }
  }
});

test('IQ4_NL/IQ4_XS: groups whose first-pass codes land exactly on, and one ulp around, every midpoint of kvalues_iq4nl', { skip: llamaCppUnavailable ?? false }, async () => {
  const ll = await loadLlamaCpp();
  // A group's largest value 127 makes the first pass's scale inverse exactly 1, so these values
  // reach best_index_int8 unchanged: the tie and both neighbours of each midpoint.
  const mids = [-115.5, -93.5, -74, -57, -42, -28.5, -16, -4.5, 7, 19, 31.5, 45.5, 61, 79, 101];
  const f = new Float32Array(1), u = new Uint32Array(f.buffer);
  const step = (x: number, d: number) => { f[0] = x; u[0] = u[0]! + (x >= 0 ? d : -d); return f[0]!; };
  const pool = mids.flatMap((m) => [m, step(m, 1), step(m, -1), -127, 113, 0]);
  const rng = new Rng(5);
  const nPerRow = 256, rows = 64;
  const src = new Float32Array(nPerRow * rows);
  for (let g = 0; g < src.length / 32; g++) {
    src[32 * g] = 127;
    for (let j = 1; j < 32; j++) src[32 * g + j] = pool[rng.int(pool.length)]!;
  }
  for (const name of ['IQ4_NL', 'IQ4_XS'] as const) {
    const id = GgmlTypeId[name];
    for (const kind of ['ones', 'uniform', 'sparse-zeros'] as const) {
      const qw = importance(kind, nPerRow, 9);
      const got = wasmQuantize(id, src, nPerRow, qw);
      assertSame(got, ll.quantizeChunk(id, src, rows, nPerRow, qw), id, `midpoints imatrix=${kind} vs llama.cpp`);
      assertSame(got, quantizeRows(id, src, rows, nPerRow, qw), id, `midpoints imatrix=${kind} vs the reference`);
    }
  }
});
