/**
 * Matrix multiplication for every weight type the project dequantizes: the reference (matmulRef)
 * against dequantize-then-multiply in float64, and the fast engine (wasm SIMD tiles on the worker
 * pool) against the reference at 1, 2 and 3 threads.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from './kernels-inputs.ts';
import { matmulRef, attention, type WeightMatrix } from '../kernels/forward/index.ts';
import { createFastEngine, toSharedBytes } from '../kernels/fast/forward-engine.ts';
import { TOKEN_BLOCK } from '../kernels/fast/forward-geometry.mjs';
import { dequantize, quantizeRows, canDequantize, requiresImatrix } from '../kernels/quant-table.ts';
import { quantizeRowQ8_KRef } from '../kernels/ref/q8_k.ts';
import { GGML_TYPES, ggmlType, rowSize, GgmlTypeId } from '../kernels/ggml-types.ts';
import type { MatmulEngine } from '../kernels/forward/engine.ts';

function randn(rng: Rng, n: number, s = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.gauss() * s;
  return a;
}

/** Every type with a dequantizer: the types a WeightMatrix may hold. */
const TYPES = GGML_TYPES.filter((t) => canDequantize(t.id));

function weight(type: number, rows: number, cols: number, rng: Rng): WeightMatrix {
  const f = randn(rng, rows * cols, 0.5);
  if (type === GgmlTypeId.Q8_K) {
    // Q8_K has no file-type quantizer in the table (intermediate only); its reference row quantizer makes the bytes.
    const data = new Uint8Array(rows * rowSize(ggmlType(type)!, cols));
    quantizeRowQ8_KRef(f, 0, data, 0, (rows * cols) / 256);
    return { type, rows, cols, data };
  }
  // IQ1_S/IQ2_XXS/IQ2_XS quantize only with importance weights (ggml_quantize_requires_imatrix).
  const imatrix = requiresImatrix(type) ? Float32Array.from({ length: cols }, (_, i) => 0.5 + (i % 7) / 4) : undefined;
  return { type, rows, cols, data: quantizeRows(type, f, rows, cols, imatrix) };
}

/** float64 product of x with the dequantized weights, and Σ|x·w| per output (the error scale). */
function product64(x: Float32Array, n: number, w: WeightMatrix, bias?: Float32Array): { y: Float64Array; mag: Float64Array } {
  const W = dequantize(w.type, w.data, w.rows * w.cols);
  const y = new Float64Array(n * w.rows), mag = new Float64Array(n * w.rows);
  for (let t = 0; t < n; t++) for (let r = 0; r < w.rows; r++) {
    let s = 0, m = 0;
    for (let c = 0; c < w.cols; c++) { const p = x[t * w.cols + c]! * W[r * w.cols + c]!; s += p; m += Math.abs(p); }
    y[t * w.rows + r] = s + (bias ? bias[r]! : 0);
    mag[t * w.rows + r] = m + (bias ? Math.abs(bias[r]!) : 0);
  }
  return { y, mag };
}

/** |got − want| ≤ k·2^-24·mag + 2^-24·|want| for every entry. */
function assertWithin(got: Float32Array, want: ArrayLike<number>, mag: Float64Array, k: number, what: string): void {
  for (let i = 0; i < want.length; i++) {
    const tol = k * 2 ** -24 * mag[i]! + 2 ** -24 * Math.abs(want[i]!);
    if (!(Math.abs(got[i]! - want[i]!) <= tol)) assert.fail(`${what}: entry ${i} is ${got[i]} vs ${want[i]} (tolerance ${tol.toExponential(2)})`);
  }
}

// matmulRef sums in float64 and rounds once (then adds the bias in float): error ≤ 2 ulps of the
// result plus the float64 summation's own ~cols·2^-53 relative, far below 1·2^-24·Σ|x·w|.
for (const t of TYPES) {
  test(`matmulRef ${t.name}: equals dequantize-then-multiply in float64 (≤ 2^-24·Σ|x·w| + 1 ulp)`, () => {
    const rng = new Rng(100 + t.id);
    const rows = 37, cols = 512, n = 5;
    const w = weight(t.id, rows, cols, rng);
    const x = randn(rng, n * cols), bias = randn(rng, rows);
    const out = new Float32Array(n * rows);
    matmulRef(x, n, w, out, bias);
    const { y, mag } = product64(x, n, w, bias);
    assertWithin(out, y, mag, 1, t.name);
    const noBias = new Float32Array(n * rows);
    matmulRef(x, n, w, noBias);
    const p = product64(x, n, w);
    assertWithin(noBias, p.y, p.mag, 1, `${t.name} without bias`);
  });
}

test('matmulRef: refuses short arrays and unknown types with a clear error', () => {
  const w: WeightMatrix = { type: GgmlTypeId.Q4_K, rows: 4, cols: 256, data: new Uint8Array(4 * 144) };
  assert.throws(() => matmulRef(new Float32Array(255), 1, w, new Float32Array(4)), /x has 255 floats/);
  assert.throws(() => matmulRef(new Float32Array(256), 1, w, new Float32Array(3)), /out has 3 floats/);
  assert.throws(() => matmulRef(new Float32Array(256), 1, { ...w, data: new Uint8Array(100) }, new Float32Array(4)), /Q4_K weight 4×256: has 100 bytes/);
  assert.throws(() => matmulRef(new Float32Array(256), 1, { ...w, type: 99 }, new Float32Array(4)), /unknown ggml type 99/);
});

// The fast engine sums 4-lane float partials over cols/4 steps, then 3 lane adds: its rounding
// error is ≤ (cols/4 + 3)·2^-24·Σ|x·w| (the classical bound for recursive summation), on top of the
// reference's own ≤ 1·2^-24·Σ|x·w|; bias adds 1 ulp. So k = cols/4 + 5.
const engines = new Map<number, MatmulEngine>();
after(async () => { for (const e of engines.values()) await e.close(); });
async function engine(threads: number): Promise<MatmulEngine> {
  let e = engines.get(threads);
  if (!e) engines.set(threads, (e = await createFastEngine({ threads })));
  return e;
}

for (const threads of [1, 2, 3]) {
  test(`fast engine, ${threads} thread(s): every weight type equals matmulRef within (cols/4 + 5)·2^-24·Σ|x·w|`, async () => {
    const eng = await engine(threads);
    assert.equal(eng.threads, threads);
    for (const t of TYPES) {
      const rng = new Rng(200 + t.id * 7 + threads);
      // 301 rows at 512 columns = 3 weight panels (128 rows each) split over the threads; odd row count.
      const rows = 301, cols = 512;
      const w = weight(t.id, rows, cols, rng);
      for (const n of [1, 6]) {
        const x = randn(rng, n * cols), bias = randn(rng, rows);
        const want = new Float32Array(n * rows), got = new Float32Array(n * rows);
        matmulRef(x, n, w, want, bias);
        await eng.matmul(x, n, w, got, bias);
        const { mag } = product64(x, n, w, bias);
        assertWithin(got, want, mag, cols / 4 + 5, `${t.name} n=${n}`);
      }
    }
  });
}

test(`fast engine: many tokens (more than one ${TOKEN_BLOCK}-token block), F32 with a ragged width, a 17 MB matrix staged in slices, shared-memory inputs and outputs`, async () => {
  const eng = await engine(2);
  const rng = new Rng(7);
  for (const [type, rows, cols, n] of [[GgmlTypeId.F32, 70, 100, 600], [GgmlTypeId.Q6_K, 129, 256, 1100], [GgmlTypeId.F32, 3, 7, 2], [GgmlTypeId.F32, 4200, 1024, 2]] as const) {
    const w = weight(type, rows, cols, rng);
    const x = randn(rng, n * cols);
    const want = new Float32Array(n * rows);
    matmulRef(x, n, w, want);
    const got = new Float32Array(n * rows);
    await eng.matmul(x, n, w, got);
    const { mag } = product64(x, n, w);
    assertWithin(got, want, mag, cols / 4 + 5, `${ggmlType(type)!.name} ${rows}×${cols}, ${n} tokens`);
    // Shared x, weights and out: the workers read and write them in place, same numbers.
    const xs = new Float32Array(new SharedArrayBuffer(x.byteLength)); xs.set(x);
    const outS = new Float32Array(new SharedArrayBuffer(got.byteLength));
    await eng.matmul(xs, n, { ...w, data: toSharedBytes(w.data) }, outS);
    assert.deepEqual(outS, got);
  }
});

test('fast engine with reference dequantizers in the workers gives the same numbers as with wasm ones', async () => {
  const ref = await createFastEngine({ threads: 2, reference: true });
  try {
    const eng = await engine(2);
    const rng = new Rng(8);
    for (const type of [GgmlTypeId.Q4_K, GgmlTypeId.Q8_0, GgmlTypeId.BF16]) {
      const w = weight(type, 50, 512, rng);
      const x = randn(rng, 3 * 512);
      const a = new Float32Array(150), b = new Float32Array(150);
      await eng.matmul(x, 3, w, a);
      await ref.matmul(x, 3, w, b);
      // The wasm dequantizers are bit-identical to the reference (test/fast-kernels.test.ts), so the product is too.
      assert.deepEqual(a, b, ggmlType(type)!.name);
    }
  } finally {
    await ref.close();
  }
});

// Fast attention sums q·k in f32 lanes (the reference in float64) and uses musl's expf: the
// softmax weights differ by a few 1e-7 relative, so outputs (convex mixes of |v| ≲ 4) by ≤ 2e-6.
for (const threads of [1, 2, 3]) {
  test(`fast engine, ${threads} thread(s): attention split by head equals the reference within 2e-6 (GQA, window, softcap, head dims 32, 20 and 64)`, async () => {
    const eng = await engine(threads);
    const rng = new Rng(9);
    for (const [n, H, HK, D] of [[40, 8, 2, 32], [17, 3, 3, 20], [300, 4, 1, 64]] as const) {
      const q = randn(rng, n * H * D), k = randn(rng, n * HK * D), v = randn(rng, n * HK * D);
      for (const opts of [{}, { window: 9 }, { softcap: 3 }]) {
        const want = new Float32Array(n * H * D), got = new Float32Array(n * H * D);
        attention(q, k, v, n, H, HK, D, 1 / Math.sqrt(D), want, opts);
        await eng.attention(q, k, v, n, H, HK, D, 1 / Math.sqrt(D), got, opts);
        let worst = 0;
        for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
        assert.ok(worst <= 2e-6, `${n}×${H}/${HK}×${D} ${JSON.stringify(opts)}: max |Δ| ${worst}`);
      }
    }
  });
}

test('fast engine: concurrent calls are serialised and each gets its own result; a closed engine refuses work', async () => {
  const eng = await createFastEngine({ threads: 2 });
  const rng = new Rng(10);
  const ws = [GgmlTypeId.F32, GgmlTypeId.Q4_0, GgmlTypeId.Q5_K].map((t) => weight(t, 64, 256, rng));
  const x = randn(rng, 4 * 256);
  const outs = ws.map(() => new Float32Array(4 * 64));
  await Promise.all(ws.map((w, i) => eng.matmul(x, 4, w, outs[i]!)));
  ws.forEach((w, i) => {
    const want = new Float32Array(4 * 64);
    matmulRef(x, 4, w, want);
    assertWithin(outs[i]!, want, product64(x, 4, w).mag, 256 / 4 + 5, `call ${i}`);
  });
  await eng.close();
  await assert.rejects(eng.matmul(x, 4, ws[0]!, outs[0]!), /closed/);
});
