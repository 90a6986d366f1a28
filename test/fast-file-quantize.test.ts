/**
 * Quantizer.quantizeFile: workers read F32 rows from a file themselves and write the result at its
 * place in another. Same bytes and the same round-trip metrics (to the bit: the wasm sums do the
 * JS float64 arithmetic in its order) as the shared-memory path, for every wasm type, at any
 * offsets; NaN/Inf inputs and overflowing scales are reported with their element and row.
 */
import { test, after } from 'node:test';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { Rng } from './kernels-inputs.ts';
import { createQuantizer } from '../kernels/fast/index.ts';
import { ggmlType, GgmlTypeId, rowSize } from '../kernels/ggml-types.ts';

const TYPES = ['F16', 'BF16', 'Q8_0', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K'] as const;
const dir = mkdtempSync(join(tmpdir(), 'gguf-forge-filequant-'));
const q = await createQuantizer({ threads: 2 });
// The CLI's pool: this thread works beside one worker (pool.ts callerWorks).
const callerWorks = await createQuantizer({ threads: 2, callerWorks: true });
after(async () => { await q.close(); await callerWorks.close(); rmSync(dir, { recursive: true, force: true }); });

/** Finite weights: gaussian, with an all-zero and a heavy-tailed stretch (kernels-inputs' makeInputs has NaN/Inf/huge blocks, which stop a checked job). */
function makeInputs(seed: number, n: number): Float32Array {
  const rng = new Rng(seed);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = rng.gauss() * 0.02;
  x.fill(0, 512, 1024);
  for (let i = 2048; i < 4096; i++) x[i] = x[i]! * 50 * rng.next() ** 4;
  return x;
}

/** Rows written at byte `at` of a fresh input file (so reads are at an unaligned offset too). */
function inputFile(name: string, rows: Float32Array, at: number): number {
  const path = join(dir, name);
  const bytes = new Uint8Array(at + rows.byteLength);
  bytes.set(new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength), at);
  writeFileSync(path, bytes);
  return openSync(path, 'r');
}

test('every wasm type: same bytes and bit-identical metrics as quantizeChecked, at odd offsets, 2 threads (two workers, or this thread and one worker)', async () => {
  const nPerRow = 2048, nrows = 300; // 614400 floats: several jobs, several pieces each, a short last piece
  const src = makeInputs(0xf11e, nPerRow * nrows);
  const inFd = inputFile('in.bin', src, 36);
  try {
    for (const name of TYPES) {
      const id = GgmlTypeId[name];
      const want = await q.quantizeChecked(id, src, nrows, nPerRow, undefined, { measure: true });
      for (const [pool, fq] of [['workers', q], ['caller works', callerWorks]] as const) {
        const what = `${name} (${pool})`;
        assert.ok(fq.quantizesFiles!(id), what);
        const outPath = join(dir, `out-${name}.bin`);
        const outFd = openSync(outPath, 'w');
        try {
          const got = await fq.quantizeFile!(id, { fd: inFd, offset: 36 }, nrows, nPerRow, { fd: outFd, offset: 100 }, { measure: true });
          assert.equal(got.firstNonFinite, -1, what);
          assert.equal(got.invalidRow, -1, what);
          assert.deepEqual(got.metrics!.result(), want.metrics!.result(), `${what}: metrics`);
        } finally {
          closeSync(outFd);
        }
        const bytes = readFileSync(outPath);
        assert.equal(bytes.length, 100 + nrows * rowSize(ggmlType(id)!, nPerRow), `${what}: file length`);
        assert.ok(Buffer.from(bytes.subarray(100)).equals(Buffer.from(want.bytes)), `${what}: bytes differ from the shared-memory path`);
      }
    }
  } finally {
    closeSync(inFd);
  }
});

test('a NaN input is reported with its element and value; an overflowing scale with its row', async () => {
  const nPerRow = 256, nrows = 64;
  const src = makeInputs(7, nPerRow * nrows);
  src[nPerRow * 40 + 5] = Number.NaN;
  src[nPerRow * 50 + 3] = Number.NEGATIVE_INFINITY;
  const outFd = openSync(join(dir, 'bad.bin'), 'w');
  const nanFd = inputFile('nan.bin', src, 0);
  try {
    const r = await q.quantizeFile!(GgmlTypeId.Q8_0, { fd: nanFd, offset: 0 }, nrows, nPerRow, { fd: outFd, offset: 0 });
    assert.equal(r.firstNonFinite, nPerRow * 40 + 5);
    assert.ok(Number.isNaN(r.nonFiniteValue));
    // Finite but beyond f16: q8_0's scale amax/127 overflows to Inf in row 9.
    const big = makeInputs(8, nPerRow * nrows);
    big[nPerRow * 9 + 17] = 3e38;
    const bigFd = inputFile('big.bin', big, 0);
    try {
      const o = await q.quantizeFile!(GgmlTypeId.Q8_0, { fd: bigFd, offset: 0 }, nrows, nPerRow, { fd: outFd, offset: 0 });
      assert.equal(o.firstNonFinite, -1);
      assert.equal(o.invalidRow, 9);
    } finally {
      closeSync(bigFd);
    }
  } finally {
    closeSync(nanFd);
    closeSync(outFd);
  }
});

test('wasm roundTripSums + addSums = RoundTripMetrics.add to the bit: odd lengths, NaN/Inf pairs, signed zeros', async () => {
  const { WasmKernels } = await import('../kernels/fast/wasm-kernels.mjs');
  const { loadWasmModule } = await import('../kernels/fast/wasm-module.ts');
  const { RoundTripMetrics } = await import('../kernels/metrics.mjs');
  const k = new WasmKernels(loadWasmModule());
  const rng = new Rng(99);
  for (const n of [1, 255, 256, 513, 256 * 3 + 7, 4096, 65536]) {
    const w = new Float32Array(k.memory.buffer, k.inPtr, n);
    const q = new Float32Array(k.memory.buffer, k.backPtr, n);
    for (let i = 0; i < n; i++) { w[i] = rng.gauss(); q[i] = w[i]! + rng.gauss() * 1e-3; }
    if (n > 300) { w[3] = Number.NaN; q[260] = Number.POSITIVE_INFINITY; w[n - 1] = -0; q[n - 1] = 0; q[7] = -0; w[7] = 0; }
    const want = new RoundTripMetrics();
    want.add(new Float32Array(w), new Float32Array(q));
    const got = new RoundTripMetrics();
    k.exports.roundTripSums!(k.inPtr, k.backPtr, n, k.sumsPtr, got.maxAbs);
    const blocks = Math.ceil(n / 256);
    got.addSums(new Float64Array(k.memory.buffer, k.sumsPtr, blocks * 5 + 3), blocks);
    assert.deepEqual({ ...got }, { ...want }, `n=${n}`);
  }
});
