/**
 * Issue 13 (fast path) for IQ3_XXS and IQ3_S: the wasm kernels (in this thread, no pool) give the
 * bytes of llama.cpp's `ggml_quantize_chunk` (after `ggml_quantize_init`) and of the JS reference,
 * with an importance matrix (the vectors of imatrix-inputs.ts) and without, on ≥ 1M hard values
 * each; rows of 256, 4096 and longer than a wasm piece. Rows llama.cpp aborts on (NaN, squares
 * that overflow) make the wasm kernel abort with the reference's message, and the instance goes on
 * giving right bytes. The dequantizers equal `to_float` bit for bit, and through the pool (2
 * threads) quantize and dequantize give the reference's bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadLlamaCpp, llamaCppUnavailable } from './support/llama-cpp.ts';
import { INPUT_KINDS, makeInputs, Rng } from './kernels-inputs.ts';
import { IMATRIX_KINDS, importance } from './imatrix-inputs.ts';
import { differingBlocks, differingFloats } from './kernels-oracle.ts';
import { loadWasmModule } from '../kernels/fast/wasm-module.ts';
import { WasmKernels, wasmImatrixNames, wasmKernelNames, PIECE_ELEMS } from '../kernels/fast/wasm-kernels.mjs';
import { createQuantizer } from '../kernels/fast/index.ts';
import { quantizeRows, dequantize } from '../kernels/quant-table.ts';
import { ggmlType, GgmlTypeId } from '../kernels/ggml-types.ts';
import { iq3xsInit } from '../kernels/ref/iq3-init.ts';
import { IQ3S_GRID, IQ3XXS_GRID, KGRID_IQ3S, KGRID_IQ3XXS } from '../kernels/ref/iq-grids/iq3-grids.ts';

const TYPES = ['IQ3_XXS', 'IQ3_S'] as const;
const N = 1 << 20;
/** Inputs llama.cpp returns on; 'huge' and 'non-finite' are tested row by row. */
const FINITE_KINDS = INPUT_KINDS.filter((k) => k !== 'huge' && k !== 'non-finite');
const skip = llamaCppUnavailable ?? false;

const kernels = new WasmKernels(loadWasmModule());

/** The wasm kernel's bytes: the imatrix export with qw, the plain one without. */
function wasmQuantize(id: number, src: Float32Array, nPerRow: number, qw?: Float32Array): Uint8Array {
  const t = ggmlType(id)!;
  const out = new Uint8Array((src.length / t.blockSize) * t.typeSize);
  if (qw) kernels.quantizeImatrix(t, src, 0, src.length, out, 0, qw, nPerRow);
  else kernels.quantize(t, src, 0, src.length, out, 0);
  return out;
}

function assertSame(got: Uint8Array, want: Uint8Array, id: number, what: string): void {
  const t = ggmlType(id)!;
  assert.equal(got.length, want.length, `${t.name} ${what}: length`);
  const bad = differingBlocks(got, want, t.typeSize);
  assert.equal(bad.length, 0, `${t.name} ${what}: ${bad.length} of ${got.length / t.typeSize} blocks differ, first block ${bad[0]}`);
}

/** Ours (wasm), llama.cpp's and the reference's bytes for the same rows: all equal. */
function check(ll: Awaited<ReturnType<typeof loadLlamaCpp>>, id: number, what: string, src: Float32Array, nPerRow: number, qw?: Float32Array): void {
  const nrows = src.length / nPerRow;
  const got = wasmQuantize(id, src, nPerRow, qw);
  assertSame(got, ll.quantizeChunk(id, src, nrows, nPerRow, qw), id, `${what} vs llama.cpp`);
  assertSame(got, quantizeRows(id, src, nrows, nPerRow, qw), id, `${what} vs the reference`);
}

test('the module has IQ3_XXS/IQ3_S imatrix quantizers, NULL-imatrix quantizers and dequantizers', () => {
  const module = loadWasmModule();
  for (const name of TYPES) {
    assert.ok(wasmImatrixNames(module).has(name), `${name} imatrix kernel`);
    assert.ok(wasmKernelNames(module).has(name), `${name} plain quantize + dequantize pair`);
  }
});

test('the wasm grids are the generated reference grids (both written by scripts/gen-iq3-grids.mjs)', () => {
  const text = readFileSync(new URL('../kernels/wasm/assembly/iq3-grids.ts', import.meta.url), 'utf8');
  const table = (name: string) => {
    const m = new RegExp(`export const ${name}: usize = memory\\.data<u\\d+>\\(\\[([^\\]]*)\\]`).exec(text);
    assert.ok(m, `${name} in iq3-grids.ts`);
    return m[1]!.split(',').map((v) => v.trim()).filter(Boolean).map(Number);
  };
  assert.deepEqual(table('KGRID_IQ3XXS'), [...KGRID_IQ3XXS]);
  assert.deepEqual(table('KGRID_IQ3S'), [...KGRID_IQ3S]);
  assert.deepEqual(table('IQ3XXS_GRID'), [...IQ3XXS_GRID]);
  assert.deepEqual(table('IQ3S_GRID'), [...IQ3S_GRID]);
});

for (const size of [256, 512] as const) {
  test(`the wasm iq3xs_init tables for ${size} points hold the reference's grid, map and neighbour lists`, () => {
    const ref = iq3xsInit(size);
    const k = new WasmKernels(loadWasmModule());
    const at = new Uint32Array(k.memory.buffer, (k.exports.iq3InitTables as (n: number) => number)(size), 3);
    const [gridAt, mapAt, chunksAt] = [at[0]!, at[1]!, at[2]!];
    const grid = new Float32Array(k.memory.buffer, gridAt, 4 * size);
    assert.deepEqual([...grid], [...ref.grid]);
    const map = new Int32Array(k.memory.buffer, mapAt, 4096);
    for (let u = 0; u < 4096; u++) {
      const want = ref.map[u]!;
      if (want >= 0) { assert.equal(map[u], want, `map[${u}]`); continue; }
      assert.ok(map[u]! < 0, `map[${u}] is a list`);
      const code = -map[u]! - 1;
      const list: number[] = [];
      for (let c = 0; c < (code & 63); c++) {
        const p = chunksAt + ((code >> 6) + c) * 80;
        const q = new Float32Array(k.memory.buffer, p, 16), idx = new Int32Array(k.memory.buffer, p + 64, 4);
        for (let lane = 0; lane < 4; lane++) {
          if (Number.isNaN(q[lane])) continue; // padding
          list.push(idx[lane]!);
          for (let i = 0; i < 4; i++) assert.equal(q[4 * i + lane], ref.grid[4 * idx[lane]! + i], `u=${u} candidate ${idx[lane]} value ${i}`);
        }
      }
      const o = -want - 1;
      assert.deepEqual(list, [...ref.neighbours.subarray(o + 1, o + 1 + ref.neighbours[o]!)], `neighbours of ${u}`);
    }
  });
}

for (const name of TYPES) {
  const id = GgmlTypeId[name];

  test(`${name}: wasm gives llama.cpp's and the reference's bytes on 2^20 hard values with each imatrix kind, and 2^20 without`, { skip }, async () => {
    const ll = await loadLlamaCpp();
    ll.quantizeInit(id);
    let values = 0;
    for (const nPerRow of [4096, 256]) {
      const per = Math.ceil(N / 2 / IMATRIX_KINDS.length / nPerRow);
      for (const [k, kind] of IMATRIX_KINDS.entries()) {
        const seed = id * 1000 + k * 10 + nPerRow;
        check(ll, id, `nPerRow=${nPerRow} imatrix=${kind}`, makeInputs(seed, per * nPerRow, FINITE_KINDS), nPerRow, importance(kind, nPerRow, seed));
        values += per * nPerRow;
      }
    }
    assert.ok(values >= N, `${values} values with an imatrix`);
    // Without: blocks are independent, so one call covers it (the plain export, per piece).
    check(ll, id, 'no imatrix', makeInputs(id * 1000 + 7, N, FINITE_KINDS), 4096);
  });

  test(`${name}: NaN, ±Inf and ~1e30 rows: the wasm kernel aborts where the reference throws (llama.cpp aborts), else gives its bytes`, { skip }, async () => {
    const ll = await loadLlamaCpp();
    ll.quantizeInit(id);
    const t = ggmlType(id)!;
    const nPerRow = 256, nrows = 128;
    const src = makeInputs(id * 1000 + 77, nrows * nPerRow, ['non-finite', 'huge']);
    for (const qw of [importance('sparse-zeros', nPerRow, id), undefined]) {
      const kept: number[] = [];
      let aborted = 0;
      for (let r = 0; r < nrows; r++) {
        const row = src.subarray(r * nPerRow, (r + 1) * nPerRow);
        let want: Uint8Array | Error;
        try { want = quantizeRows(id, row, 1, nPerRow, qw); } catch (e) { want = e as Error; }
        if (want instanceof Error) {
          assert.throws(() => wasmQuantize(id, row, nPerRow, qw), (e: Error) => e instanceof RangeError && e.message === (want as Error).message, `row ${r}: ${want.message}`);
          aborted++;
        } else {
          assertSame(wasmQuantize(id, row, nPerRow, qw), want, id, `row ${r} imatrix=${qw ? 'sparse-zeros' : 'NULL'} vs the reference`);
          kept.push(r);
        }
      }
      assert.ok(aborted > 0 && kept.length > 0, `${aborted} rows aborted, ${kept.length} kept`);
      const rows = new Float32Array(kept.length * nPerRow);
      kept.forEach((r, i) => rows.set(src.subarray(r * nPerRow, (r + 1) * nPerRow), i * nPerRow));
      assertSame(wasmQuantize(id, rows, nPerRow, qw), ll.quantizeChunk(id, rows, kept.length, nPerRow, qw), id, `kept non-finite/huge rows imatrix=${qw ? 'sparse-zeros' : 'NULL'} vs llama.cpp`);
    }
    // The instance is still sound after its aborts.
    const after = makeInputs(id + 5, 4096 * 4, FINITE_KINDS);
    const qw = importance('uniform', 4096, 5);
    assertSame(wasmQuantize(id, after, 4096, qw), ll.quantizeChunk(id, after, 4, 4096, qw), id, 'after aborts');
    assert.equal(t.blockSize, 256);
  });

  test(`${name}: hand-made rows (an all-zero sub-block at each position, the zero thresholds, sign ties, overflow) give llama.cpp's bytes`, { skip }, async () => {
    const ll = await loadLlamaCpp();
    ll.quantizeInit(id);
    const rng = new Rng(id);
    const gauss = () => Float32Array.from({ length: 256 }, () => rng.gauss());
    const rows: Float32Array[] = [];
    for (let j = 0; j < 8; j++) { const r = gauss(); r.fill(0, 32 * j, 32 * j + 32); rows.push(r); }
    { const r = gauss(); for (const j of [0, 3, 7]) r.fill(0, 32 * j, 32 * j + 32); rows.push(r); }
    rows.push(new Float32Array(256));
    for (const f of [0.999, 1, 1.001]) {
      const r = gauss();
      for (let i = 0; i < 128; i++) r[i] = (rng.next() < 0.5 ? -1 : 1) * 1e-8 * f * (i % 16 === 0 ? 1 : rng.next());
      rows.push(r);
    }
    for (let k = 0; k < 4; k++) rows.push(Float32Array.from({ length: 256 }, (_, i) => (((i * 7 + k) % 3) - 1) * 0.5));
    for (let e = 8; e <= 19; e++) rows.push(gauss().map((v) => v * 10 ** e));
    for (const qw of [importance('uniform', 256, id), importance('huge-ratios', 256, id + 1), undefined]) {
      const kept = rows.filter((row) => {
        try { quantizeRows(id, row, 1, 256, qw); return true; } catch { return false; }
      });
      assert.ok(kept.length >= 21, `${kept.length} rows kept`);
      const src = new Float32Array(kept.length * 256);
      kept.forEach((r, i) => src.set(r, 256 * i));
      check(ll, id, `edge rows imatrix=${qw ? 'yes' : 'NULL'}`, src, 256, qw);
    }
  });

  test(`${name}: wasm dequantize equals to_float and the reference bit for bit (quantized and random bytes)`, { skip }, async () => {
    const ll = await loadLlamaCpp();
    ll.quantizeInit(id);
    const t = ggmlType(id)!;
    const n = 1 << 18;
    const real = ll.quantizeChunk(id, makeInputs(id + 11, n, FINITE_KINDS), n / 4096, 4096, importance('uniform', 4096, 1));
    const rng = new Rng(5000 + id);
    const random = new Uint8Array((n / 256) * t.typeSize);
    for (let i = 0; i < random.length; i++) random[i] = rng.u32() & 255;
    for (const [what, bytes] of [['quantized', real], ['random', random]] as const) {
      const got = new Float32Array(n);
      kernels.dequantize(t, bytes, 0, n, got, 0);
      const bad = differingFloats(got, ll.dequantize(id, bytes, n));
      assert.equal(bad.length, 0, `${name} ${what}: ${bad.length} floats differ from to_float, first at ${bad[0]}`);
      const badRef = differingFloats(got, dequantize(id, bytes, n));
      assert.equal(badRef.length, 0, `${name} ${what}: ${badRef.length} floats differ from the reference, first at ${badRef[0]}`);
    }
  });
}

test('IQ3_XXS/IQ3_S: rows longer than a wasm piece, with the NaN check, give llama.cpp\'s bytes', { skip }, async () => {
  const ll = await loadLlamaCpp();
  const nPerRow = PIECE_ELEMS + 512, rows = 2;
  const src = makeInputs(4242, nPerRow * rows, FINITE_KINDS);
  const qw = importance('huge-ratios', nPerRow, 4243);
  for (const name of TYPES) {
    const id = GgmlTypeId[name];
    ll.quantizeInit(id);
    const t = ggmlType(id)!;
    const out = new Uint8Array((src.length / t.blockSize) * t.typeSize);
    assert.equal(kernels.quantizeImatrix(t, src, 0, src.length, out, 0, qw, nPerRow, true), -1, `${name}: no non-finite input`);
    assertSame(out, ll.quantizeChunk(id, src, rows, nPerRow, qw), id, 'long rows vs llama.cpp');
    assertSame(out, quantizeRows(id, src, rows, nPerRow, qw), id, 'long rows vs the reference');
  }
});

test('IQ3_XXS/IQ3_S through the pool (2 threads): quantize with and without an imatrix and dequantize give the reference\'s bytes', async () => {
  const q = await createQuantizer({ threads: 2 });
  try {
    const nPerRow = 4096, nrows = 32;
    const src = makeInputs(99, nPerRow * nrows, FINITE_KINDS);
    const qw = importance('sparse-zeros', nPerRow, 98);
    for (const name of TYPES) {
      const id = GgmlTypeId[name];
      const want = quantizeRows(id, src, nrows, nPerRow, qw);
      const { bytes } = await q.quantizeChecked(id, src, nrows, nPerRow, undefined, { imatrix: qw });
      assertSame(bytes, want, id, 'pool with imatrix vs the reference');
      assertSame(await q.quantize(id, src, nrows, nPerRow), quantizeRows(id, src, nrows, nPerRow), id, 'pool without imatrix vs the reference');
      const back = await q.dequantize(id, want, src.length);
      const bad = differingFloats(back, dequantize(id, want, src.length));
      assert.equal(bad.length, 0, `${name}: pool dequantize differs from the reference at ${bad.length} values`);
    }
  } finally {
    await q.close();
  }
});
