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

test('jobs longer than a file piece (FILE_PIECE_ELEMS): same bytes and metrics, and a NaN input or a bad scale in a later piece found at its place', async () => {
  const { FILE_PIECE_ELEMS } = await import('../kernels/fast/wasm-kernels.mjs');
  const nPerRow = 4096, nrows = Math.ceil((FILE_PIECE_ELEMS * 8 * 1.2) / nPerRow); // 2 threads make 8 jobs: each a full piece and a short one
  const src = makeInputs(0xb16, nPerRow * nrows);
  const inFd = inputFile('long.bin', src, 4);
  const outPath = join(dir, 'long-out.bin');
  const outFd = openSync(outPath, 'w');
  try {
    for (const name of ['Q8_0', 'Q4_0', 'Q4_K'] as const) {
      const id = GgmlTypeId[name];
      const want = await q.quantizeChecked(id, src, nrows, nPerRow, undefined, { measure: true });
      const got = await q.quantizeFile!(id, { fd: inFd, offset: 4 }, nrows, nPerRow, { fd: outFd, offset: 0 }, { measure: true });
      assert.equal(got.firstNonFinite, -1, name);
      assert.equal(got.invalidRow, -1, name);
      assert.deepEqual(got.metrics!.result(), want.metrics!.result(), `${name}: metrics`);
      const bytes = readFileSync(outPath).subarray(0, want.bytes.length);
      assert.ok(Buffer.from(bytes).equals(Buffer.from(want.bytes)), `${name}: bytes`);
    }
    // Q8_0 jobs are 1/8 of the blocks (kernels/fast/index.ts blocksPerJob); job 3's second piece starts FILE_PIECE_ELEMS into it.
    const jobElems = Math.ceil((nPerRow * nrows) / 32 / 8) * 32;
    assert.ok(jobElems > FILE_PIECE_ELEMS + 6000);
    const at = 3 * jobElems + FILE_PIECE_ELEMS + 1000;
    const dirty = src.slice();
    dirty[at] = Number.POSITIVE_INFINITY;
    dirty[at + 5000] = Number.NaN;
    const dirtyFd = inputFile('long-dirty.bin', dirty, 0);
    const big = src.slice();
    big[at + 77] = 3e38; // q8_0's scale overflows f16 in that row
    const bigFd = inputFile('long-big.bin', big, 0);
    try {
      const r = await q.quantizeFile!(GgmlTypeId.Q8_0, { fd: dirtyFd, offset: 0 }, nrows, nPerRow, { fd: outFd, offset: 0 });
      assert.equal(r.firstNonFinite, at);
      assert.equal(r.nonFiniteValue, Number.POSITIVE_INFINITY);
      const o = await q.quantizeFile!(GgmlTypeId.Q8_0, { fd: bigFd, offset: 0 }, nrows, nPerRow, { fd: outFd, offset: 0 });
      assert.equal(o.firstNonFinite, -1);
      assert.equal(o.invalidRow, Math.floor((at + 77) / nPerRow));
    } finally {
      closeSync(dirtyFd);
      closeSync(bigFd);
    }
  } finally {
    closeSync(inFd);
    closeSync(outFd);
  }
});

test('wasm roundTripAccumulate + fromState = RoundTripMetrics.add to the bit: odd lengths, several calls, NaN/Inf pairs in either lane, signed zeros', async () => {
  const { WasmKernels, METRICS_STATE } = await import('../kernels/fast/wasm-kernels.mjs');
  const { loadWasmModule } = await import('../kernels/fast/wasm-module.ts');
  const { RoundTripMetrics } = await import('../kernels/metrics.mjs');
  const k = new WasmKernels(loadWasmModule());
  const rng = new Rng(99);
  // Each case: the lengths of the calls that accumulate into one state (a job's pieces).
  const cases = [[1], [255], [256], [513], [256 * 3 + 7], [4096], [65536], [65536, 65536, 1000], [512, 511, 1537]];
  for (const [c, lengths] of cases.entries()) {
    for (const dirty of [false, true]) {
      const want = new RoundTripMetrics();
      const state = new Float64Array(k.memory.buffer, k.metricsPtr, METRICS_STATE);
      state.fill(0);
      for (const [call, n] of lengths.entries()) {
        const w = new Float32Array(k.memory.buffer, k.inPtr, n);
        const q = new Float32Array(k.memory.buffer, k.backPtr, n);
        for (let i = 0; i < n; i++) { w[i] = rng.gauss() * (i % 97 === 0 ? 1e4 : 1); q[i] = w[i]! + rng.gauss() * 1e-3; }
        if (n > 1) { w[n - 1] = -0; q[n - 1] = 0; q[0] = -0; w[0] = 0; }
        if (dirty && n > 300) {
          // lane 0 and lane 1 of the f64x2 loop (blocks 0 and 1), and the scalar tail
          w[3] = Number.NaN; q[260] = Number.POSITIVE_INFINITY; q[n - 2] = Number.NEGATIVE_INFINITY;
          if (call === 0 && n >= 4096) { w[1024 + 5] = Number.POSITIVE_INFINITY; q[1024 + 5] = Number.POSITIVE_INFINITY; w[2048 + 300] = -Infinity; }
        }
        want.add(new Float32Array(w), new Float32Array(q));
        k.exports.roundTripAccumulate!(k.inPtr, k.backPtr, n, k.metricsPtr);
      }
      const got = RoundTripMetrics.fromState(new Float64Array(k.memory.buffer, k.metricsPtr, METRICS_STATE));
      assert.deepEqual({ ...got, sqErr: { ...got.sqErr }, absErr: { ...got.absErr }, sqOrig: { ...got.sqOrig }, sqApprox: { ...got.sqApprox }, dot: { ...got.dot } },
        { ...want, sqErr: { ...want.sqErr }, absErr: { ...want.absErr }, sqOrig: { ...want.sqOrig }, sqApprox: { ...want.sqApprox }, dot: { ...want.dot } }, `case ${c} dirty=${dirty}`);
      if (dirty && lengths[0]! > 300) assert.ok(got.nonFinite > 0, `case ${c}: skipped pairs counted`);
    }
  }
});
