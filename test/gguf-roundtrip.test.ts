import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gguf } from '@huggingface/gguf';
import { GgufWriter, neFromTorchShape } from '../formats/gguf/writer.ts';
import { readGguf, readTensorBytes, getKv } from '../formats/gguf/reader.ts';
import { openFileSource } from '../formats/io/byte-source.ts';
import { createAtomicFile } from '../formats/io/atomic-file.ts';
import { GgufValueType as V, arr, bool, f32, f64, i16, i32, i64, i8, str, u16, u32, u64, u8, type GgufValue } from '../formats/gguf/value-types.ts';
import { GgmlTypeId as T } from '../kernels/ggml-types.ts';
import { ForgeError, UsageError } from '../formats/errors.ts';
import { loadLlamaCpp, llamaCppUnavailable } from './support/llama-cpp.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'forge-gguf-'));

const KVS: [string, GgufValue][] = [
  ['general.architecture', str('llama')],
  ['t.u8', u8(255)], ['t.i8', i8(-128)], ['t.u16', u16(65535)], ['t.i16', i16(-32768)],
  ['t.u32', u32(4294967295)], ['t.i32', i32(-2147483648)], ['t.f32', f32(1.5)], ['t.bool', bool(true)],
  ['t.str', str('héllo ✓')], ['t.u64', u64(2n ** 64n - 1n)], ['t.i64', i64(-(2n ** 63n))], ['t.f64', f64(Math.PI)],
  ['a.u8', arr(V.UINT8, new Uint8Array([0, 1, 255]))], ['a.i8', arr(V.INT8, [-1, 2])], ['a.u16', arr(V.UINT16, [1, 65535])],
  ['a.i16', arr(V.INT16, [-2, 3])], ['a.u32', arr(V.UINT32, [7, 8])], ['a.i32', arr(V.INT32, [-5, 6, 7])],
  ['a.f32', arr(V.FLOAT32, [0.25, -1])], ['a.bool', arr(V.BOOL, [true, false, true])], ['a.str', arr(V.STRING, ['a', '', 'ccc'])],
  ['a.u64', arr(V.UINT64, [1n, 2n ** 63n])], ['a.i64', arr(V.INT64, [-1n, 5n])], ['a.f64', arr(V.FLOAT64, [1e300, -0.5])],
  ['a.empty', arr(V.INT32, [])],
];

/** Deterministic bytes for a tensor, so the data section can be checked exactly. */
const fill = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7) & 0xff);

const TENSORS: { name: string; torchShape: number[]; type: number; nbytes: number }[] = [
  { name: 'token_embd.weight', torchShape: [3, 32], type: T.F32, nbytes: 3 * 32 * 4 },
  { name: 'blk.0.attn_q.weight', torchShape: [2, 64], type: T.Q4_0, nbytes: 2 * 2 * 18 },
  { name: 'blk.0.ffn_down.weight', torchShape: [1, 256], type: T.Q5_K, nbytes: 176 },
  { name: 'output_norm.weight', torchShape: [5], type: T.F16, nbytes: 10 },
  { name: 'blk.0.x.weight', torchShape: [2, 1, 3, 32], type: T.Q8_0, nbytes: 6 * 34 },
];

async function writeSample(path: string, opts: { alignment?: number; chunk?: number } = {}) {
  const w = await GgufWriter.open(path, opts.alignment ? { alignment: opts.alignment } : {});
  for (const [k, v] of KVS) w.addKv(k, v);
  for (const t of TENSORS) w.addTensor(t.name, neFromTorchShape(t.torchShape), t.type);
  await w.writeHeader();
  for (const [i, t] of TENSORS.entries()) {
    const data = fill(t.nbytes, i);
    const step = opts.chunk ?? data.length;
    for (let o = 0; o < data.length; o += step) await w.writeTensorData(t.name, data.subarray(o, o + step));
  }
  await w.finish();
}

const plain = (v: unknown) => (ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : v);

for (const alignment of [undefined, 64]) {
  test(`write → read round trip (alignment ${alignment ?? 'default'}), checked by our reader and @huggingface/gguf`, async () => {
    const path = join(tmp(), 'rt.gguf');
    await writeSample(path, { alignment, chunk: 7 });
    const f = await readGguf(path);
    const align = alignment ?? 32;
    assert.equal(f.version, 3);
    assert.equal(f.alignment, align);
    assert.equal(f.dataOffset % align, 0);
    // general.alignment is only written when it is not the default (reference §1.5).
    assert.equal(getKv(f, 'general.alignment')?.value, alignment);
    const expectedKvs = alignment ? [...KVS, ['general.alignment', u32(alignment)] as [string, GgufValue]] : KVS;
    assert.deepEqual(f.kvs.map((k) => k.key), expectedKvs.map(([k]) => k));
    for (const [k, v] of expectedKvs) {
      const got = getKv(f, k)!;
      assert.equal(got.type, v.type, k);
      if (v.type === V.ARRAY) assert.equal((got as { elemType: number }).elemType, v.elemType, k);
      assert.deepEqual(plain(got.value), plain(v.value), k);
    }
    let expectOffset = 0;
    for (const [i, t] of TENSORS.entries()) {
      const info = f.tensors[i]!;
      assert.equal(info.name, t.name);
      assert.deepEqual(info.ne, [...t.torchShape].reverse());
      assert.equal(info.type, t.type);
      assert.equal(info.nbytes, t.nbytes);
      assert.equal(info.offset, expectOffset);
      expectOffset = Math.ceil((expectOffset + t.nbytes) / align) * align;
      const src = await openFileSource(path);
      assert.deepEqual(await readTensorBytes(src, f, info), fill(t.nbytes, i));
      if (info.ne.length > 1 && info.ne[1]! > 1) {
        const rowBytes = t.nbytes / (t.torchShape.slice(0, -1).reduce((a, b) => a * b, 1));
        assert.deepEqual(await readTensorBytes(src, f, info, 1, 1), fill(t.nbytes, i).subarray(rowBytes, 2 * rowBytes));
      }
      await src.close();
    }
    // The file ends padded after the last tensor, like gguf-py and gguf.cpp.
    assert.equal(statSync(path).size, f.dataOffset + expectOffset);
    const bytes = readFileSync(path);
    assert.ok(bytes.subarray(f.dataOffset + TENSORS.at(-1)!.nbytes + f.tensors.at(-1)!.offset).every((b) => b === 0), 'padding is zeros');

    const hf = await gguf(path, { allowLocalFile: true, typedMetadata: true });
    assert.equal(hf.tensorDataOffset, BigInt(f.dataOffset));
    assert.deepEqual(hf.tensorInfos.map((t) => [t.name, t.shape.map(Number), t.dtype, Number(t.offset)]), f.tensors.map((t) => [t.name, t.ne, t.type, t.offset]));
    for (const kv of f.kvs) {
      const h = hf.typedMetadata[kv.key]!;
      assert.equal(h.type, kv.type, kv.key);
      if (kv.type === V.ARRAY) assert.equal(h.subType, kv.elemType, kv.key);
      assert.deepEqual(h.value, kv.type === V.ARRAY ? Array.from(kv.value as ArrayLike<unknown>) : kv.value, kv.key);
    }
  });
}

test('the writer composes with an atomic file: nothing appears until commit', async () => {
  const dir = tmp();
  const out = join(dir, 'm.gguf');
  const af = await createAtomicFile(out);
  await writeSample(af.tmpPath);
  assert.throws(() => statSync(out));
  await af.commit();
  assert.equal((await readGguf(out)).tensors.length, TENSORS.length);
});

async function headerWritten(names = ['a', 'b']) {
  const w = await GgufWriter.open(join(tmp(), 'x.gguf'));
  for (const n of names) w.addTensor(n, [32, 2], T.Q8_0);
  return w;
}

const isOrder = (e: unknown) => e instanceof ForgeError && e.code === 'GGUF_WRITER_ORDER';

test('state machine refuses out-of-order calls', async () => {
  const w = await headerWritten();
  await assert.rejects(w.writeTensorData('a', new Uint8Array(1)), isOrder, 'data before header');
  await assert.rejects(w.finish(), isOrder, 'finish before header');
  await w.writeHeader();
  assert.throws(() => w.addKv('k', u32(1)), isOrder, 'kv after header');
  assert.throws(() => w.addTensor('c', [32], T.F32), isOrder, 'tensor after header');
  await assert.rejects(w.writeHeader(), isOrder, 'header twice');
  await assert.rejects(w.writeTensorData('b', new Uint8Array(68)), (e: unknown) => isOrder(e) && /expected data for tensor 'a'/.test((e as Error).message));
  await w.writeTensorData('a', new Uint8Array(60));
  await assert.rejects(w.writeTensorData('a', new Uint8Array(9)), (e: unknown) => isOrder(e) && /69 bytes given but it holds 68/.test((e as Error).message));
  await assert.rejects(w.finish(), (e: unknown) => isOrder(e) && /'a' has 60 of 68 bytes and 1 more/.test((e as Error).message));
  await w.writeTensorData('a', new Uint8Array(8));
  await w.writeTensorData('b', new Uint8Array(68));
  await assert.rejects(w.writeTensorData('b', new Uint8Array(1)), isOrder);
  await w.finish();
  await assert.rejects(w.finish(), isOrder);
});

test('writer validates keys, values and tensor declarations', async () => {
  const w = await GgufWriter.open(join(tmp(), 'x.gguf'));
  w.addKv('k', u32(1));
  assert.throws(() => w.addKv('k', u32(2)), (e: unknown) => e instanceof UsageError && e.code === 'DUPLICATE_KEY');
  assert.throws(() => w.addKv('v', u8(256)), UsageError);
  assert.throws(() => w.addKv('v', u32(-1)), UsageError);
  assert.throws(() => w.addKv('v', i32(1.5)), UsageError);
  assert.throws(() => w.addKv('v', { type: V.ARRAY, elemType: V.ARRAY as never, value: [] }), UsageError);
  assert.throws(() => w.addKv('general.alignment', i32(32)), UsageError);
  assert.throws(() => w.addKv('general.alignment', u32(48)), UsageError);
  assert.throws(() => w.addTensor('t', [100, 2], T.Q4_0), (e: unknown) => e instanceof UsageError && /block size 32/.test((e as Error).message));
  assert.throws(() => w.addTensor('t', [1, 1, 1, 1, 1], T.F32), UsageError);
  assert.throws(() => w.addTensor('t', [32], 4), UsageError);
  assert.throws(() => w.addTensor('x'.repeat(64), [32], T.F32), UsageError);
  w.addTensor('t', [32], T.F32);
  assert.throws(() => w.addTensor('t', [32], T.F32), UsageError);
  await w.abort();
});

test('a large header (vocabulary of 50k tokens, many buffer growths) round-trips and matches @huggingface/gguf', async () => {
  const path = join(tmp(), 'vocab.gguf');
  const tokens = Array.from({ length: 50000 }, (_, i) => `▁tok${i}${'x'.repeat(i % 13)}`);
  const scores = Float32Array.from({ length: tokens.length }, (_, i) => -i / 7);
  const w = await GgufWriter.open(path);
  w.addKv('general.architecture', str('llama'));
  w.addKv('tokenizer.ggml.tokens', arr(V.STRING, tokens));
  w.addKv('tokenizer.ggml.scores', arr(V.FLOAT32, scores));
  w.addKv('tokenizer.ggml.eos_token_id', u32(2));
  w.addTensor('t', [32], T.F32);
  await w.writeHeader();
  await w.writeTensorData('t', fill(128, 1));
  await w.finish();
  const f = await readGguf(path);
  assert.deepEqual(getKv(f, 'tokenizer.ggml.tokens')!.value, tokens);
  assert.deepEqual(getKv(f, 'tokenizer.ggml.scores')!.value, scores);
  assert.equal(getKv(f, 'tokenizer.ggml.eos_token_id')!.value, 2);
  const hf = await gguf(path, { allowLocalFile: true });
  assert.deepEqual((hf.metadata as Record<string, unknown>)['tokenizer.ggml.tokens'], tokens);
  assert.equal(hf.tensorDataOffset, BigInt(f.dataOffset));
  const src = await openFileSource(path);
  assert.deepEqual(await readTensorBytes(src, f, f.tensors[0]!), fill(128, 1));
  await src.close();
});

test("llama.cpp's own gguf reader reads our file: every key, type and value, tensor infos and offsets", async (t) => {
  if (llamaCppUnavailable) return t.skip(llamaCppUnavailable);
  const path = join(tmp(), 'for-llama.gguf');
  await writeSample(path, { alignment: 64 });
  const { binsDir } = await loadLlamaCpp();
  const koffi = (await import('koffi')).default;
  const lib = koffi.load(join(binsDir, 'libggml-base.so'));
  koffi.struct('gguf_init_params_rt', { no_alloc: 'bool', ctx: 'void *' });
  const fn = (sig: string) => lib.func(sig);
  const init = fn('void *gguf_init_from_file(const char *fname, gguf_init_params_rt params)');
  const g = {
    free: fn('void gguf_free(void *ctx)'),
    version: fn('uint32_t gguf_get_version(void *ctx)'),
    alignment: fn('size_t gguf_get_alignment(void *ctx)'),
    dataOffset: fn('size_t gguf_get_data_offset(void *ctx)'),
    nKv: fn('int64_t gguf_get_n_kv(void *ctx)'),
    key: fn('const char *gguf_get_key(void *ctx, int64_t id)'),
    kvType: fn('int gguf_get_kv_type(void *ctx, int64_t id)'),
    arrType: fn('int gguf_get_arr_type(void *ctx, int64_t id)'),
    arrN: fn('size_t gguf_get_arr_n(void *ctx, int64_t id)'),
    arrData: fn('const void *gguf_get_arr_data(void *ctx, int64_t id)'),
    arrStr: fn('const char *gguf_get_arr_str(void *ctx, int64_t id, size_t i)'),
    valData: fn('const void *gguf_get_val_data(void *ctx, int64_t id)'),
    valStr: fn('const char *gguf_get_val_str(void *ctx, int64_t id)'),
    nTensors: fn('int64_t gguf_get_n_tensors(void *ctx)'),
    tName: fn('const char *gguf_get_tensor_name(void *ctx, int64_t id)'),
    tOffset: fn('size_t gguf_get_tensor_offset(void *ctx, int64_t id)'),
    tType: fn('int gguf_get_tensor_type(void *ctx, int64_t id)'),
    tSize: fn('size_t gguf_get_tensor_size(void *ctx, int64_t id)'),
  };
  const C: Record<number, string> = {
    [V.UINT8]: 'uint8_t', [V.INT8]: 'int8_t', [V.UINT16]: 'uint16_t', [V.INT16]: 'int16_t', [V.UINT32]: 'uint32_t', [V.INT32]: 'int32_t',
    [V.FLOAT32]: 'float', [V.BOOL]: 'bool', [V.UINT64]: 'uint64_t', [V.INT64]: 'int64_t', [V.FLOAT64]: 'double',
  };
  const big = (v: unknown, type: number) => (type === V.UINT64 || type === V.INT64 ? BigInt(v as number) : v);
  const ctx = init(path, { no_alloc: true, ctx: null });
  assert.ok(ctx, 'llama.cpp accepts the file');
  try {
    assert.equal(g.version(ctx), 3);
    assert.equal(Number(g.alignment(ctx)), 64);
    const ours = await readGguf(path);
    assert.equal(Number(g.dataOffset(ctx)), ours.dataOffset);
    assert.equal(Number(g.nKv(ctx)), ours.kvs.length);
    for (const [i, kv] of ours.kvs.entries()) {
      assert.equal(g.key(ctx, i), kv.key);
      assert.equal(g.kvType(ctx, i), kv.type, kv.key);
      let value: unknown;
      if (kv.type === V.ARRAY) {
        assert.equal(g.arrType(ctx, i), kv.elemType, kv.key);
        const n = Number(g.arrN(ctx, i));
        value = kv.elemType === V.STRING
          ? Array.from({ length: n }, (_, j) => g.arrStr(ctx, i, j))
          : n === 0 ? [] : Array.from(koffi.decode(g.arrData(ctx, i), C[kv.elemType]!, n) as ArrayLike<unknown>, (v) => big(v, kv.elemType));
        assert.deepEqual(value, Array.from(kv.value as ArrayLike<unknown>), kv.key);
      } else {
        value = kv.type === V.STRING ? g.valStr(ctx, i) : big(koffi.decode(g.valData(ctx, i), C[kv.type]!), kv.type);
        assert.equal(value, kv.value, kv.key);
      }
    }
    assert.equal(Number(g.nTensors(ctx)), TENSORS.length);
    for (const [i, info] of ours.tensors.entries()) {
      assert.equal(g.tName(ctx, i), info.name);
      assert.equal(g.tType(ctx, i), info.type);
      assert.equal(Number(g.tOffset(ctx, i)), info.offset);
      assert.equal(Number(g.tSize(ctx, i)), info.nbytes);
    }
  } finally {
    g.free(ctx);
  }
});
