/**
 * The write stage's bounded memory: chunks live in a few reused shared buffers (never one per
 * chunk), a buffer is not reused while its async write is pending (bytes stay identical to the
 * reference quantizer however many chunks), NaN/Inf found by the workers still names the tensor
 * and element, and the read paths that fill the caller's buffer give the same floats as the
 * allocating ones.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SharedBufferPool } from '../kernels/fast/buffer-pool.ts';
import { createQuantizer } from '../kernels/fast/index.ts';
import { quantizeRows } from '../kernels/quant-table.ts';
import { GgmlTypeId as T, rowSize, ggmlType } from '../kernels/ggml-types.ts';
import { writeGguf, type TensorSource } from '../src/pipeline/write-gguf.ts';
import { hfRowReader } from '../src/pipeline/hf-tensor-source.ts';
import { openModelTensors } from '../src/pipeline/model-tensors.ts';
import { permuteRowsQK } from '../formats/hf/qk-permute.ts';
import { readGguf, readTensorBytes } from '../formats/gguf/reader.ts';
import { openFileSource } from '../formats/io/byte-source.ts';
import { toFloat32 } from '../formats/safetensors/dtypes.ts';
import { SafetensorsWriter } from '../formats/safetensors/writer.ts';
import { ForgeError } from '../formats/errors.ts';
import type { TensorPlan } from '../src/policy/type-policy.ts';

const dir = mkdtempSync(join(tmpdir(), 'gguf-forge-wbuf-'));
const quantizer = await createQuantizer({ threads: 2 });
after(async () => {
  await quantizer.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Deterministic weight-like values. */
function weights(n: number, seed: number): Float32Array {
  const x = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    x[i] = ((s >>> 0) / 2 ** 32 - 0.5) * 0.1;
  }
  return x;
}

test('SharedBufferPool hands a returned buffer out again, and refuses misuse loudly', () => {
  const pool = new SharedBufferPool(1000);
  const a = pool.acquire();
  const b = pool.acquire(10);
  assert.notEqual(a, b);
  assert.ok(a.buffer instanceof SharedArrayBuffer);
  assert.equal(a.length, 1000);
  assert.equal(a.buffer.byteLength % 4096, 0, 'page-rounded, so any typed view is aligned');
  pool.release(a);
  assert.equal(pool.acquire(), a, 'reused, not reallocated');
  assert.equal(pool.buffers, 2);
  assert.throws(() => pool.acquire(1001), /1001 bytes from a pool of 1000-byte/);
  pool.release(b);
  assert.throws(() => pool.release(b), /not lent out/);
  assert.throws(() => pool.release(new Uint8Array(1000)), /not lent out/);
});

/** A source over in-memory rows that records every buffer the writer offers it. */
function memorySource(plan: TensorPlan, data: Float32Array, offered: Set<ArrayBufferLike>, delayMs = 0): TensorSource {
  const nPerRow = plan.ne[0]!;
  return {
    plan,
    async readRowsF32(r, n, into) {
      assert.ok(into, 'the writer offers a buffer');
      assert.ok(into.buffer instanceof SharedArrayBuffer, 'on shared memory');
      offered.add(into.buffer);
      if (delayMs) await new Promise((res) => setTimeout(res, delayMs));
      into.set(data.subarray(r * nPerRow, (r + n) * nPerRow));
      return into.subarray(0, n * nPerRow);
    },
  };
}

async function drain<T>(gen: AsyncGenerator<unknown, T>): Promise<T> {
  for (;;) {
    const s = await gen.next();
    if (s.done) return s.value;
  }
}

for (const type of [T.Q4_0, T.Q5_K, T.Q8_0]) {
  const name = ggmlType(type)!.name;
  test(`${name}: 96 chunks through at most seven reused buffers, bytes identical to the reference quantizer`, async () => {
    const nPerRow = 512;
    const rows = 384;
    const plans: TensorPlan[] = [
      { name: 'a.weight', ne: [nPerRow, rows], sourceType: T.F32, targetType: type, quantize: true, rule: 'test' },
      { name: 'b.weight', ne: [nPerRow, rows / 2], sourceType: T.F32, targetType: type, quantize: true, rule: 'test' },
      { name: 'norm.weight', ne: [nPerRow], sourceType: T.F32, targetType: T.F32, quantize: false, rule: 'test' },
    ];
    const data = plans.map((p, i) => weights(p.ne.reduce((a, b) => a * b, 1), 7 + i));
    const offered = new Set<ArrayBufferLike>();
    const out = join(dir, `chunks-${name}.gguf`);
    // 4 rows per chunk: 96 + 48 + 1 steps; reads that take a while let writes pile up if they could.
    const result = await drain(writeGguf({
      outPath: out, kvs: [], tensors: plans.map((p, i) => memorySource(p, data[i]!, offered, i === 0 ? 1 : 0)),
      quantizer, chunkBytes: 4 * nPerRow * 4, validate: true,
    }));
    assert.ok(offered.size <= 7, `${offered.size} distinct buffers for 145 chunks`);
    const file = await readGguf(out);
    const src = await openFileSource(out);
    try {
      for (const [i, p] of plans.entries()) {
        const t = file.tensors.find((x) => x.name === p.name)!;
        const got = await readTensorBytes(src, file, t);
        const want = p.quantize ? quantizeRows(type, data[i]!, p.ne[1]!, nPerRow) : new Uint8Array(data[i]!.buffer);
        assert.equal(got.length, want.length);
        assert.ok(Buffer.from(got).equals(Buffer.from(want)), `${p.name}: bytes differ from the reference`);
      }
    } finally {
      await src.close();
    }
    assert.equal(result.metrics['a.weight']!.count, nPerRow * rows, 'metrics cover every element of the chunked tensor');
    assert.ok(result.metrics['a.weight']!.rmse > 0 && result.metrics['a.weight']!.rmse < 0.01);
  });
}

test('jobs sharing a quantizer share its buffers (no new memory per job), and a failed job leaves the next one correct', async () => {
  const q2 = await createQuantizer({ threads: 2 });
  try {
    const nPerRow = 256;
    const plan: TensorPlan = { name: 'w.weight', ne: [nPerRow, 64], sourceType: T.F32, targetType: T.Q8_0, quantize: true, rule: 'test' };
    const data = weights(nPerRow * 64, 21);
    const want = quantizeRows(T.Q8_0, data, 64, nPerRow);
    const offered = new Set<ArrayBufferLike>();
    const job = async (src: Float32Array, out: string) =>
      drain(writeGguf({ outPath: join(dir, out), force: true, kvs: [], tensors: [memorySource(plan, src, offered)], quantizer: q2, chunkBytes: 4 * nPerRow * 4 }));
    const check = async (out: string) => {
      const file = await readGguf(join(dir, out));
      const src = await openFileSource(join(dir, out));
      try {
        assert.ok(Buffer.from(await readTensorBytes(src, file, file.tensors[0]!)).equals(Buffer.from(want)));
      } finally {
        await src.close();
      }
    };
    for (let i = 0; i < 4; i++) await job(data, 'shared-pool.gguf');
    await check('shared-pool.gguf');
    assert.ok(offered.size <= 7, `${offered.size} distinct buffers over four jobs`);
    const poisoned = data.slice();
    poisoned[10 * nPerRow] = NaN;
    await assert.rejects(job(poisoned, 'shared-pool-bad.gguf'), /element 2560\b/);
    await job(data, 'shared-pool-after.gguf');
    await check('shared-pool-after.gguf');
    assert.ok(offered.size <= 14, `${offered.size} distinct buffers: a failed job writes off at most its own seven`);
  } finally {
    await q2.close();
  }
});

test('a NaN found by the workers names the tensor and its element; no output is left', async () => {
  const nPerRow = 256;
  const plan: TensorPlan = { name: 'blk.0.ffn_up.weight', ne: [nPerRow, 64], sourceType: T.F32, targetType: T.Q4_K, quantize: true, rule: 'test' };
  const data = weights(nPerRow * 64, 3);
  const bad = 40 * nPerRow + 17;
  data[bad] = NaN;
  const out = join(dir, 'nan.gguf');
  await assert.rejects(drain(writeGguf({ outPath: out, kvs: [], tensors: [memorySource(plan, data, new Set())], quantizer, chunkBytes: 8 * nPerRow * 4 })),
    (e: unknown) => e instanceof ForgeError && e.kind === 'format' && /blk\.0\.ffn_up\.weight/.test(e.message) && new RegExp(`element ${bad}\\b`).test(e.message) && /row 40, column 17/.test(e.message));
  assert.throws(() => readFileSync(out), /ENOENT/);
});

test('hfRowReader: the in-place q/k permutation into the offered buffer equals permuteRowsQK, for any row window', async () => {
  const rowLen = 8, nRows = 48, heads = 4;
  const all = weights(rowLen * nRows, 11);
  const read = async (_: string, lo: number, n: number, into?: Float32Array) => {
    const rows = all.subarray(lo * rowLen, (lo + n) * rowLen);
    if (!into) return rows.slice();
    into.set(rows);
    return into.subarray(0, rows.length);
  };
  const want = permuteRowsQK(all, nRows, rowLen, heads);
  const reader = hfRowReader(read, { hfName: 'q', rowLen, nRows, permuteHeads: heads });
  for (const [r, n] of [[0, 48], [5, 9], [12, 12], [47, 1], [0, 1]] as const) {
    const expected = want.subarray(r * rowLen, (r + n) * rowLen);
    const into = new Float32Array(nRows * rowLen);
    const got = await reader(r, n, into);
    assert.equal(got.buffer, into.buffer, 'filled the offered buffer');
    assert.deepEqual(got, expected, `rows ${r}..${r + n} with a buffer`);
    assert.deepEqual(await reader(r, n), expected, `rows ${r}..${r + n} without one`);
  }
});

test('model tensors: BF16/F16/F32 rows read into the offered buffer are exactly toFloat32 of the bytes', async () => {
  const model = join(dir, 'st');
  rmSync(model, { recursive: true, force: true });
  mkdirSync(model);
  const shape = [6, 10];
  const n = 60;
  const bits16 = new Uint16Array(n);
  for (let i = 0; i < n; i++) bits16[i] = (i * 2654435761) & 0x7bff; // finite f16 and bf16 codes, both signs
  const f32 = weights(n, 5);
  const bytes = { BF16: new Uint8Array(bits16.buffer), F16: new Uint8Array(bits16.buffer), F32: new Uint8Array(f32.buffer) } as const;
  const w = await SafetensorsWriter.open(join(model, 'model.safetensors'), (['BF16', 'F16', 'F32'] as const).map((d) => ({ name: `t.${d}`, dtype: d, shape })), {});
  for (const d of ['BF16', 'F16', 'F32'] as const) await w.writeTensorData(`t.${d}`, bytes[d]);
  await w.finish();
  const m = await openModelTensors(model);
  try {
    for (const d of ['BF16', 'F16', 'F32'] as const) {
      const want = toFloat32(d, bytes[d]).subarray(2 * 10, 5 * 10);
      const into = new Float32Array(new SharedArrayBuffer(4 * 64));
      const got = await m.readRowsF32(`t.${d}`, 2, 3, into);
      assert.equal(got.buffer, into.buffer, `${d}: filled the offered buffer`);
      assert.deepEqual(new Uint32Array(got.slice().buffer), new Uint32Array(want.slice().buffer), `${d}: same bits`);
      assert.deepEqual(await m.readRowsF32(`t.${d}`, 2, 3), want, `${d}: same without a buffer`);
    }
  } finally {
    await m.close();
  }
});

test('readTensorBytes into a buffer: a view of that buffer with the same bytes as a fresh read', async () => {
  const nPerRow = 64;
  const plan: TensorPlan = { name: 'x.weight', ne: [nPerRow, 10], sourceType: T.F32, targetType: T.Q8_0, quantize: true, rule: 'test' };
  const data = weights(nPerRow * 10, 9);
  const out = join(dir, 'read-into.gguf');
  await drain(writeGguf({ outPath: out, kvs: [], tensors: [memorySource(plan, data, new Set())], quantizer }));
  const file = await readGguf(out);
  const src = await openFileSource(out);
  try {
    const t = file.tensors[0]!;
    const into = new Uint8Array(1000);
    const got = await readTensorBytes(src, file, t, 3, 4, into);
    assert.equal(got.buffer, into.buffer);
    assert.equal(got.length, 4 * rowSize(ggmlType(T.Q8_0)!, nPerRow));
    assert.deepEqual(got, await readTensorBytes(src, file, t, 3, 4));
    await assert.rejects(readTensorBytes(src, file, t, 0, 10, new Uint8Array(10)), /buffer of 10 bytes/);
  } finally {
    await src.close();
  }
});
