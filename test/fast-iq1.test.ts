/**
 * Issue 13 (fast path) for IQ1_S and IQ1_M: the wasm imatrix kernels (in this thread, no pool)
 * give the bytes of llama.cpp's `ggml_quantize_chunk(…, imatrix)` and of the JS reference on 2^20
 * hard values per type under every importance vector kind of imatrix-inputs.ts, in rows of 256,
 * 4096 and longer than a wasm piece, and on NaN/±Inf/huge and hand-made edge rows (with an
 * importance matrix none of them reaches llama.cpp's GGML_ASSERTs, where the reference would throw
 * and the wasm kernel aborts). The wasm dequantizers equal `to_float` bit for bit, and
 * through the worker pool (2 threads) both give the reference's bytes and floats.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadLlamaCpp, llamaCppUnavailable, type LlamaCpp } from './support/llama-cpp.ts';
import { INPUT_KINDS, makeInputs, Rng } from './kernels-inputs.ts';
import { IMATRIX_KINDS, importance } from './imatrix-inputs.ts';
import { differingBlocks, differingFloats, hex } from './kernels-oracle.ts';
import { loadWasmModule } from '../kernels/fast/wasm-module.ts';
import { WasmKernels, wasmImatrixNames, wasmDequantNames, PIECE_ELEMS } from '../kernels/fast/wasm-kernels.mjs';
import { createQuantizer, type Quantizer } from '../kernels/fast/index.ts';
import { dequantize, quantizeRows } from '../kernels/quant-table.ts';
import { ggmlType, GgmlTypeId, rowSize } from '../kernels/ggml-types.ts';

const TYPES = ['IQ1_S', 'IQ1_M'] as const;
const N = 1 << 20;
/** Every kind whose values and squares stay finite; 'huge' and 'non-finite' abort llama.cpp and are tested apart. */
const FINITE_KINDS = INPUT_KINDS.filter((k) => k !== 'huge' && k !== 'non-finite');

const kernels = new WasmKernels(loadWasmModule());
let pool: Quantizer | undefined;
after(async () => { await pool?.close(); });

let ggmlInit: Promise<void> | undefined;
/**
 * `ggml_quantize_init` for the 2048-point IQ1 lattice (IQ1_S and IQ1_M share it) costs llama.cpp
 * seconds of CPU: run it once on a libuv thread (koffi's async call, same library instance) so it
 * overlaps this thread's wasm and reference work.
 */
function ggmlIq1Init(ll: LlamaCpp): Promise<void> {
  ggmlInit ??= (async () => {
    const koffi = (await import('koffi')).default;
    const init = koffi.load(join(ll.binsDir, 'libggml-base.so')).func('void ggml_quantize_init(int type)') as unknown as
      { async(type: number, cb: (e: unknown) => void): void };
    await new Promise<void>((resolve, reject) => init.async(GgmlTypeId.IQ1_S, (e) => (e ? reject(e) : resolve())));
  })();
  return ggmlInit;
}

function wasmQuantize(id: number, src: Float32Array, nPerRow: number, qw: Float32Array): Uint8Array {
  const t = ggmlType(id)!;
  const out = new Uint8Array((src.length / t.blockSize) * t.typeSize);
  kernels.quantizeImatrix(t, src, 0, src.length, out, 0, qw, nPerRow);
  return out;
}

function assertSame(got: Uint8Array, want: Uint8Array, id: number, what: string): void {
  const t = ggmlType(id)!;
  const bad = differingBlocks(got, want, t.typeSize);
  const b = bad[0];
  assert.equal(bad.length, 0, `${t.name} ${what}: ${bad.length} of ${got.length / t.typeSize} blocks differ` +
    (b === undefined ? '' : `; first ${b}: wasm ${hex(got.subarray(b * t.typeSize, (b + 1) * t.typeSize))} want ${hex(want.subarray(b * t.typeSize, (b + 1) * t.typeSize))}`));
}

function assertSameFloats(got: Float32Array, want: Float32Array, what: string): void {
  const bad = differingFloats(got, want);
  const i = bad[0];
  assert.equal(bad.length, 0, `${what}: ${bad.length} of ${got.length} floats differ${i === undefined ? '' : `; first at ${i}: ${got[i]} vs ${want[i]}`}`);
}

test('the module has IQ1_S/IQ1_M imatrix quantizers and dequantizers', () => {
  const m = loadWasmModule();
  for (const name of TYPES) {
    assert.ok(wasmImatrixNames(m).has(name), `${name} imatrix kernel`);
    assert.ok(wasmDequantNames(m).has(name), `${name} dequantizer`);
  }
});

for (const name of TYPES) {
  const id = GgmlTypeId[name];
  test(`${name}: the wasm imatrix kernel gives llama.cpp's and the reference's bytes on 2^20 hard values (rows of 4096 and 256)`, { skip: llamaCppUnavailable ?? false }, async () => {
    const ll = await loadLlamaCpp();
    const ready = ggmlIq1Init(ll);
    const cases: { src: Float32Array; qw: Float32Array; got: Uint8Array; per: number; nPerRow: number; what: string }[] = [];
    for (const nPerRow of [4096, 256]) {
      const per = Math.ceil(N / 2 / IMATRIX_KINDS.length / nPerRow);
      for (const [k, kind] of IMATRIX_KINDS.entries()) {
        const seed = id * 1000 + k * 10 + nPerRow;
        const src = makeInputs(seed, per * nPerRow, FINITE_KINDS);
        const qw = importance(kind, nPerRow, seed);
        const got = wasmQuantize(id, src, nPerRow, qw);
        const what = `nPerRow=${nPerRow} imatrix=${kind}`;
        assertSame(got, quantizeRows(id, src, per, nPerRow, qw), id, `${what} vs the reference`);
        cases.push({ src, qw, got, per, nPerRow, what });
      }
    }
    await ready;
    for (const c of cases) assertSame(c.got, ll.quantizeChunk(id, c.src, c.per, c.nPerRow, c.qw), id, `${c.what} vs llama.cpp`);
    const values = cases.reduce((a, c) => a + c.src.length, 0);
    assert.ok(values >= N, `${values} values compared`);
  });
}

test('IQ1_S/IQ1_M: rows longer than a wasm piece, NaN inputs and the NaN check, through quantizeImatrix', { skip: llamaCppUnavailable ?? false }, async () => {
  const ll = await loadLlamaCpp();
  const nPerRow = PIECE_ELEMS + 512, rows = 2;
  const src = makeInputs(4242, nPerRow * rows, FINITE_KINDS);
  // NaN makes a super-block's σ² and weights NaN: no split is taken, the block is zeros (no abort).
  src[70000] = NaN;
  src[nPerRow + 3000] = NaN;
  const qw = importance('huge-ratios', nPerRow, 4243);
  for (const name of TYPES) {
    const id = GgmlTypeId[name];
    await ggmlIq1Init(ll);
    const t = ggmlType(id)!;
    const out = new Uint8Array((src.length / t.blockSize) * t.typeSize);
    const bad = kernels.quantizeImatrix(t, src, 0, src.length, out, 0, qw, nPerRow, true);
    assert.equal(bad, nPerRow + 3000, `${name}: first non-finite input`);
    assertSame(out, ll.quantizeChunk(id, src, rows, nPerRow, qw), id, 'long rows vs llama.cpp');
    assertSame(out, quantizeRows(id, src, rows, nPerRow, qw), id, 'long rows vs the reference');
  }
});

/**
 * Rows the random kinds rarely make: an all-zero sub-block at each position, values at the "all
 * zero" thresholds (1e-12 IQ1_S, 1e-7 IQ1_M), ties of equal magnitude with mixed signs and ±0,
 * few distinct values, and rows scaled by 1e8…1e19 where sums of squares overflow.
 */
function edgeRows(seed: number): Float32Array[] {
  const rng = new Rng(seed);
  const gauss = () => Float32Array.from({ length: 256 }, () => rng.gauss());
  const rows: Float32Array[] = [];
  for (let j = 0; j < 16; j++) { const r = gauss(); r.fill(0, 16 * j, 16 * j + 16); rows.push(r); }
  for (const eps of [1e-12, 1e-7]) {
    for (const f of [0.999, 1, 1.001]) {
      const r = gauss();
      for (let i = 0; i < 128; i++) r[i] = (rng.next() < 0.5 ? -1 : 1) * eps * f * (i % 16 === 0 ? 1 : rng.next());
      rows.push(r);
    }
  }
  for (let k = 0; k < 4; k++) rows.push(Float32Array.from({ length: 256 }, (_, i) => (((i * 7 + k) % 3) - 1) * 0.5 * (i % 5 === 0 ? -1 : 1)));
  for (let k = 0; k < 4; k++) rows.push(Float32Array.from({ length: 256 }, (_, i) => [0, -0, 1, -1, 0.25][(i * (k + 3)) % 5]!));
  for (let e = 8; e <= 19; e++) { const r = gauss(); for (let i = 0; i < 256; i++) r[i] = r[i]! * 10 ** e; rows.push(r); }
  return rows;
}

for (const name of TYPES) {
  const id = GgmlTypeId[name];
  test(`${name}: NaN/±Inf/~1e30 and edge rows give the reference's and llama.cpp's bytes (and would throw where the reference throws)`, { skip: llamaCppUnavailable ?? false }, async () => {
    const ll = await loadLlamaCpp();
    await ggmlIq1Init(ll);
    const t = ggmlType(id)!;
    const hard = makeInputs(id * 100 + 77, 256 * 256, ['non-finite', 'huge']);
    const rows = [...Array.from({ length: 256 }, (_, r) => hard.subarray(256 * r, 256 * r + 256)), ...edgeRows(id)];
    for (const qw of [importance('sparse-zeros', 256, id), importance('huge-ratios', 256, id + 1)]) {
      const kept: Float32Array[] = [];
      for (const row of rows) {
        let want: Uint8Array | undefined;
        try { want = quantizeRows(id, row, 1, 256, qw); } catch { /* llama.cpp aborts on this row */ }
        const got = new Uint8Array(t.typeSize);
        let threw = false;
        try { kernels.quantizeImatrix(t, row, 0, 256, got, 0, qw, 256); } catch { threw = true; }
        assert.equal(threw, want === undefined, `${name}: the wasm kernel ${threw ? 'throws' : 'returns'} on a row where the reference ${want ? 'returns' : 'throws'}`);
        if (!want) continue;
        assertSame(got, want, id, 'one row vs the reference');
        kept.push(row);
      }
      const src = new Float32Array(kept.length * 256);
      kept.forEach((r, i) => src.set(r, 256 * i));
      assertSame(wasmQuantize(id, src, 256, qw), ll.quantizeChunk(id, src, kept.length, 256, qw), id, `${kept.length} rows llama.cpp returns on`);
    }
  });

  test(`${name}: the wasm dequantizer matches to_float bit for bit on random block bytes`, { skip: llamaCppUnavailable ?? false }, async () => {
    const ll = await loadLlamaCpp();
    const t = ggmlType(id)!;
    const nBlocks = 2048;
    const bytes = new Uint8Array(nBlocks * t.typeSize);
    const rng = new Rng(5000 + id);
    for (let i = 0; i < bytes.length; i++) bytes[i] = rng.u32() & 255;
    const got = new Float32Array(nBlocks * 256);
    kernels.dequantize(t, bytes, 0, got.length, got, 0);
    assertSameFloats(got, ll.dequantize(id, bytes, got.length), `${name} wasm vs to_float`);
  });

  test(`${name}: through the worker pool (2 threads) with an imatrix, the bytes and floats are the reference's`, async () => {
    pool ??= await createQuantizer({ threads: 2 });
    const nPerRow = 4096, nrows = 24;
    const src = makeInputs(id + 31, nPerRow * nrows, FINITE_KINDS);
    const qw = importance('sparse-zeros', nPerRow, id);
    const want = quantizeRows(id, src, nrows, nPerRow, qw);
    const r = await pool.quantizeChecked(id, src, nrows, nPerRow, undefined, { imatrix: qw });
    assert.equal(r.firstNonFinite, -1);
    assertSame(r.bytes, want, id, 'pool vs the reference');
    assert.equal(r.bytes.length, nrows * rowSize(ggmlType(id)!, nPerRow));
    assertSameFloats(await pool.dequantize(id, want, src.length), dequantize(id, want, src.length), `${name} pool dequantize vs the reference`);
  });
}
