/**
 * Issue 13 (fast path) for IQ2_XXS, IQ2_XS and IQ2_S: the wasm kernels (kernels/wasm/assembly/
 * iq2-quantize.ts, iq2-dequant.ts) give the bytes of llama.cpp's `ggml_quantize_chunk(…, imatrix)`
 * and of the JS reference on 2^20 hard values per type, under importance vectors with zeros, huge
 * ratios, all-zero and tiny columns; rows of 256, 4096 and longer than a wasm piece; IQ2_S also
 * without an imatrix. The dequantizers equal `to_float` bit for bit, and the worker pool (2 threads)
 * returns the reference's bytes. Where llama.cpp aborts (IQ2_XS/IQ2_S on overflowing or NaN input,
 * see test/kernels-quantize-iq2.test.ts) the wasm kernel throws and the instance stays usable.
 *
 * `ggml_quantize_init` costs llama.cpp seconds of CPU per type (it sorts the whole grid for each of
 * ~43k lattice indexes), so it runs on a libuv thread from the start while the comparisons with
 * the reference run here; the comparisons with llama.cpp come after, on the same inputs and bytes.
 */
import { test } from 'node:test';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { loadLlamaCpp, llamaCppUnavailable } from './support/llama-cpp.ts';
import { INPUT_KINDS, makeInputs, randomScaledBlocks, type InputKind } from './kernels-inputs.ts';
import { IMATRIX_KINDS, importance } from './imatrix-inputs.ts';
import { differingBlocks, differingFloats } from './kernels-oracle.ts';
import { loadWasmModule } from '../kernels/fast/wasm-module.ts';
import { WasmKernels, wasmDequantNames, wasmImatrixNames, wasmKernelNames, PIECE_ELEMS } from '../kernels/fast/wasm-kernels.mjs';
import { createQuantizer } from '../kernels/fast/index.ts';
import { dequantize, quantizeRows } from '../kernels/quant-table.ts';
import { ggmlType, GgmlTypeId } from '../kernels/ggml-types.ts';

const N = 1 << 20;
/** Kinds on which llama.cpp's IQ2_XS/IQ2_S abort; IQ2_XXS survives them (its groups are skipped). */
const ABORTING: readonly InputKind[] = ['huge', 'non-finite'];
const FINITE_KINDS = INPUT_KINDS.filter((k) => !ABORTING.includes(k));
const TYPES = [
  { name: 'IQ2_XXS', kinds: INPUT_KINDS },
  { name: 'IQ2_XS', kinds: FINITE_KINDS },
  { name: 'IQ2_S', kinds: FINITE_KINDS },
] as const;

const kernels = new WasmKernels(loadWasmModule());

/** One load for the whole file (loadLlamaCpp caches only once it has finished). */
const llamaCpp = llamaCppUnavailable ? undefined : loadLlamaCpp();
llamaCpp?.catch(() => { /* reported by the tests that await it */ });

/** ggml_quantize_init for the three types, one after another on a libuv thread (started now). */
const ggmlInit: Promise<void> = llamaCppUnavailable ? Promise.resolve() : (async () => {
  const ll = (await llamaCpp)!;
  const koffi = (await import('koffi')).default;
  const init = koffi.load(join(ll.binsDir, 'libggml-base.so')).func('void ggml_quantize_init(int type)') as unknown as {
    async(type: number, cb: (e: unknown) => void): void;
  };
  for (const { name } of TYPES) await new Promise<void>((resolve, reject) => init.async(GgmlTypeId[name], (e) => (e ? reject(e) : resolve())));
})();
ggmlInit.catch(() => { /* reported by the tests that await it */ });

/** The wasm vs reference cases, kept for the comparison with llama.cpp once its init is done. */
interface Case { src: Float32Array; qw: Float32Array; rows: number; nPerRow: number; got: Uint8Array; what: string }
const cases = new Map<number, Case[]>();

function assertSame(got: Uint8Array, want: Uint8Array, id: number, what: string): void {
  const t = ggmlType(id)!;
  assert.equal(got.length, want.length, `${t.name} ${what}: length`);
  const bad = differingBlocks(got, want, t.typeSize);
  assert.equal(bad.length, 0, `${t.name} ${what}: ${bad.length} of ${got.length / t.typeSize} blocks differ, first block ${bad[0]}`);
}

function assertSameFloats(got: Float32Array, want: Float32Array, what: string): void {
  const bad = differingFloats(got, want);
  assert.equal(bad.length, 0, `${what}: ${bad.length} of ${got.length} values differ, first at ${bad[0]}`);
}

function wasmQuantize(id: number, src: Float32Array, nPerRow: number, qw: Float32Array): Uint8Array {
  const t = ggmlType(id)!;
  const out = new Uint8Array((src.length / t.blockSize) * t.typeSize);
  kernels.quantizeImatrix(t, src, 0, src.length, out, 0, qw, nPerRow);
  return out;
}

function wasmDequantize(id: number, bytes: Uint8Array, n: number): Float32Array {
  const out = new Float32Array(n);
  kernels.dequantize(ggmlType(id)!, bytes, 0, n, out, 0);
  return out;
}

test('the module has the IQ2 imatrix quantizers, the dequantizers, and a plain IQ2_S quantizer', () => {
  const module = loadWasmModule();
  for (const { name } of TYPES) {
    assert.ok(wasmImatrixNames(module).has(name), `${name} imatrix quantizer`);
    assert.ok(wasmDequantNames(module).has(name), `${name} dequantizer`);
  }
  assert.ok(wasmKernelNames(module).has('IQ2_S'), 'IQ2_S plain quantizer');
});

for (const { name, kinds } of TYPES) {
  const id = GgmlTypeId[name];
  test(`${name}: the wasm imatrix kernel gives the reference's bytes on 2^20 hard values`, () => {
    const list: Case[] = [];
    for (const nPerRow of [4096, 256]) {
      const rows = Math.ceil(N / 2 / IMATRIX_KINDS.length / nPerRow);
      for (const [k, kind] of IMATRIX_KINDS.entries()) {
        const seed = id * 1000 + k * 10 + nPerRow;
        const src = makeInputs(seed, rows * nPerRow, kinds);
        const qw = importance(kind, nPerRow, seed);
        const got = wasmQuantize(id, src, nPerRow, qw);
        const what = `nPerRow=${nPerRow} imatrix=${kind}`;
        assertSame(got, quantizeRows(id, src, rows, nPerRow, qw), id, `${what} vs the reference`);
        list.push({ src, qw, rows, nPerRow, got, what });
      }
    }
    cases.set(id, list);
  });
}

test('IQ2 wasm dequantizers: random block bytes (every code is valid) match to_float bit for bit', { skip: llamaCppUnavailable ?? false }, async () => {
  const ll = (await llamaCpp)!;
  for (const { name } of TYPES) {
    const type = ggmlType(GgmlTypeId[name])!;
    const nBlocks = 2048;
    const bytes = randomScaledBlocks(type.typeSize, nBlocks, 5000 + type.id);
    const n = nBlocks * 256;
    assertSameFloats(wasmDequantize(type.id, bytes, n), ll.dequantize(type.id, bytes, n), `${name} random bytes`);
  }
});

test('IQ2_XS/IQ2_S on input where llama.cpp aborts: the wasm kernel throws, and the instance still gives the right bytes after', () => {
  const own = new WasmKernels(loadWasmModule());
  const qw = new Float32Array(256).fill(1);
  for (const id of [GgmlTypeId.IQ2_XS, GgmlTypeId.IQ2_S]) {
    const t = ggmlType(id)!;
    for (const kind of ABORTING) {
      const src = makeInputs(77, 4 * 256, [kind]);
      assert.throws(() => own.quantizeImatrix(t, src, 0, src.length, new Uint8Array(4 * t.typeSize), 0, qw, 256), /iq2 quantizer: no neighbour at a finite distance/, `${t.name} ${kind}`);
    }
    const ok = makeInputs(78, 8 * 256, FINITE_KINDS);
    const out = new Uint8Array(8 * t.typeSize);
    own.quantizeImatrix(t, ok, 0, ok.length, out, 0, qw, 256);
    assertSame(out, quantizeRows(id, ok, 8, 256, qw), id, 'after an abort');
  }
});

test('through the worker pool (2 threads), IQ2 with an imatrix, IQ2_S without, and their dequantization give the reference\'s bytes', async () => {
  const q = await createQuantizer({ threads: 2 });
  try {
    for (const { name, kinds } of TYPES) {
      const id = GgmlTypeId[name];
      const nPerRow = 2048, rows = 16;
      const src = makeInputs(900 + id, rows * nPerRow, kinds);
      const qw = importance('sparse-zeros', nPerRow, id);
      const want = quantizeRows(id, src, rows, nPerRow, qw);
      const { bytes } = await q.quantizeChecked(id, src, rows, nPerRow, undefined, { imatrix: qw });
      assertSame(bytes, want, id, 'pool with imatrix');
      assertSameFloats(await q.dequantize(id, bytes, src.length), dequantize(id, want, src.length), `${name} pool dequantize`);
    }
    const src = makeInputs(31, 8 * 1024, FINITE_KINDS);
    assertSame(await q.quantize(GgmlTypeId.IQ2_S, src, 8, 1024), quantizeRows(GgmlTypeId.IQ2_S, src, 8, 1024), GgmlTypeId.IQ2_S, 'pool without imatrix');
  } finally {
    await q.close();
  }
});

for (const { name } of TYPES) {
  const id = GgmlTypeId[name];
  test(`${name}: the same 2^20 values give llama.cpp's bytes (ggml_quantize_chunk with the imatrix), and the wasm dequantizer is to_float`, { skip: llamaCppUnavailable ?? false }, async () => {
    const ll = (await llamaCpp)!;
    await ggmlInit;
    const list = cases.get(id);
    assert.ok(list, 'the comparison with the reference ran first');
    for (const [i, { src, qw, rows, nPerRow, got, what }] of list.entries()) {
      const theirs = ll.quantizeChunk(id, src, rows, nPerRow, qw);
      assertSame(got, theirs, id, `${what} vs llama.cpp`);
      if (i % 3 === 0) assertSameFloats(wasmDequantize(id, theirs, src.length), ll.dequantize(id, theirs, src.length), `${name} dequantize`);
    }
  });
}

test('IQ2: rows longer than a wasm piece, and the NaN check, through quantizeImatrix', { skip: llamaCppUnavailable ?? false }, async () => {
  const ll = (await llamaCpp)!;
  await ggmlInit;
  const nPerRow = PIECE_ELEMS + 512, rows = 2;
  for (const { name, kinds } of TYPES) {
    const id = GgmlTypeId[name];
    const t = ggmlType(id)!;
    const src = makeInputs(4242 + id, nPerRow * rows, kinds);
    const qw = importance('huge-ratios', nPerRow, 4243);
    const out = new Uint8Array((src.length / t.blockSize) * t.typeSize);
    const bad = kernels.quantizeImatrix(t, src, 0, src.length, out, 0, qw, nPerRow, true);
    assert.equal(bad, src.findIndex((v) => !Number.isFinite(v)), `${name}: first non-finite input`);
    assertSame(out, ll.quantizeChunk(id, src, rows, nPerRow, qw), id, 'long rows vs llama.cpp');
  }
  // Back to short rows after the long ones moved the staging area.
  const short = makeInputs(4244, 4096 * 4, FINITE_KINDS);
  const qw = importance('uniform', 4096, 1);
  assertSame(wasmQuantize(GgmlTypeId.IQ2_XS, short, 4096, qw), ll.quantizeChunk(GgmlTypeId.IQ2_XS, short, 4, 4096, qw), GgmlTypeId.IQ2_XS, 'after long rows');
});

test('IQ2_S without an imatrix (quant_weights NULL): the plain wasm kernel gives llama.cpp\'s and the reference\'s bytes', { skip: llamaCppUnavailable ?? false }, async () => {
  const ll = (await llamaCpp)!;
  await ggmlInit;
  const id = GgmlTypeId.IQ2_S;
  const t = ggmlType(id)!;
  const src = makeInputs(2222, N / 4, FINITE_KINDS);
  const rows = N / 4 / 1024;
  const got = new Uint8Array((src.length / 256) * t.typeSize);
  kernels.quantize(t, src, 0, src.length, got, 0);
  assertSame(got, ll.quantizeChunk(id, src, rows, 1024), id, 'plain vs llama.cpp');
  assertSame(got, quantizeRows(id, src, rows, 1024), id, 'plain vs the reference');
});
