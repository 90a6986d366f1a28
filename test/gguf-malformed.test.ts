/**
 * Every kind of malformed GGUF named in the issue, built in memory, must give a FormatError that
 * names the file and the offset or tensor: never a crash, a hang or a huge allocation.
 * Each case is also handed to llama.cpp's own gguf_init_from_file (in a child process, so an
 * abort there cannot take the test runner down) to show we reject what llama.cpp rejects.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readGguf } from '../formats/gguf/reader.ts';
import { GgufWriter } from '../formats/gguf/writer.ts';
import { ByteBuilder } from '../formats/gguf/byte-builder.ts';
import { memorySource } from '../formats/io/byte-source.ts';
import { FormatError } from '../formats/errors.ts';
import { GgufValueType as V, arr, str } from '../formats/gguf/value-types.ts';
import { GgmlTypeId as T } from '../kernels/ggml-types.ts';
import { loadLlamaCpp, llamaCppUnavailable } from './support/llama-cpp.ts';

const NAME = 'bad.gguf';

interface Spec {
  magic?: number;
  version?: number;
  nTensors?: bigint;
  nKv?: bigint;
  kvs?: (b: ByteBuilder) => void;
  tensors?: (b: ByteBuilder) => void;
  dataBytes?: number;
}

/** Assembles a GGUF from raw parts; counts default to what the callbacks imply is unknown, so give them. */
function build(s: Spec): Uint8Array {
  const b = new ByteBuilder();
  b.u32(s.magic ?? 0x46554747);
  b.u32(s.version ?? 3);
  b.u64(s.nTensors ?? 0n);
  b.u64(s.nKv ?? 0n);
  s.kvs?.(b);
  s.tensors?.(b);
  b.zeros((32 - (b.length % 32)) % 32);
  b.zeros(s.dataBytes ?? 0);
  return b.result().slice();
}

const kvU32 = (b: ByteBuilder, key: string, v: number) => { b.string(key); b.u32(V.UINT32); b.u32(v); };
const info = (b: ByteBuilder, name: string, ne: (number | bigint)[], type: number, offset: number | bigint) => {
  b.string(name);
  b.u32(ne.length);
  for (const n of ne) b.u64(BigInt(n));
  b.u32(type);
  b.u64(BigInt(offset));
};

/**
 * Every case, saved for the llama.cpp cross-check at the end. 'ok' marks inputs llama.cpp accepts
 * where we are stricter; 'any' marks inputs where llama.cpp's answer is not asserted.
 */
type LlamaVerdict = 'ok' | 'rejected' | 'any';
const caseDir = mkdtempSync(join(tmpdir(), 'forge-malformed-'));
const cases: { path: string; expect: LlamaVerdict; why: string }[] = [];
function record(bytes: Uint8Array, expect: LlamaVerdict, why: string) {
  const path = join(caseDir, `case-${cases.length}.gguf`);
  writeFileSync(path, bytes);
  cases.push({ path, expect, why });
}

async function rejects(bytes: Uint8Array, code: string | RegExp, re: RegExp, where: 'offset' | string = 'offset', llama: LlamaVerdict = 'rejected') {
  record(bytes, llama, `${code} ${re}`);
  await assert.rejects(readGguf(memorySource(NAME, bytes)), (e: unknown) => {
    assert.ok(e instanceof FormatError, `expected FormatError, got ${(e as Error)?.stack}`);
    if (typeof code === 'string') assert.equal(e.code, code, e.message);
    else assert.match(e.code, code, e.message);
    assert.match(e.message, re);
    assert.ok(e.message.includes(NAME), `names the file: ${e.message}`);
    if (where === 'offset') {
      assert.match(e.message, /offset \d+/, `names the offset: ${e.message}`);
      assert.equal(typeof e.context.offset, 'number');
    } else {
      assert.ok(e.message.includes(`'${where}'`), `names the tensor: ${e.message}`);
    }
    return true;
  });
}

test('a well-formed file built the same way is accepted (the builder is sound)', async () => {
  const bytes = build({ nTensors: 1n, nKv: 1n, kvs: (b) => kvU32(b, 'a', 1), tensors: (b) => info(b, 't', [32, 2], T.Q8_0, 0), dataBytes: 96 });
  const f = await readGguf(memorySource(NAME, bytes));
  assert.equal(f.tensors[0]!.nbytes, 68);
  record(bytes, 'ok', 'well-formed');
});

test('every truncation of a real file is a FormatError with an offset (never a crash or a read of zeros)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'forge-trunc-'));
  const path = join(dir, 'ok.gguf');
  const w = await GgufWriter.open(path);
  w.addKv('general.architecture', str('llama'));
  w.addKv('tokenizer.ggml.tokens', arr(V.STRING, ['<s>', 'b', 'cc']));
  w.addKv('s', arr(V.FLOAT32, [1, 2, 3]));
  w.addTensor('a', [32, 2], T.Q4_0);
  w.addTensor('b', [4], T.F32);
  await w.writeHeader();
  await w.writeTensorData('a', new Uint8Array(36).fill(1));
  await w.writeTensorData('b', new Uint8Array(16).fill(2));
  await w.finish();
  const full = readFileSync(path);
  record(full, 'ok', 'well-formed, written by GgufWriter');
  // Data must be present up to the end of the last tensor; trailing padding may be missing.
  const f = await readGguf(memorySource(NAME, full));
  const lastEnd = f.dataOffset + f.tensors[1]!.offset + 16;
  for (let len = 0; len < lastEnd; len++) {
    // A cut inside the header shows up either as a read past the end or as a count/length that no longer fits.
    await rejects(full.subarray(0, len), /^(TRUNCATED|BAD_COUNT|BAD_LENGTH)$/, /truncated|cannot fit|does not fit|bytes left/);
  }
});

test('bad magic', async () => {
  await rejects(build({ magic: 0x46554746 }), 'BAD_MAGIC', /bad magic/);
});

for (const version of [0, 1, 4, 0xffff]) {
  test(`version ${version} is refused`, async () => {
    await rejects(build({ version }), 'BAD_VERSION', new RegExp(`version ${version}|version 1 is no longer`));
  });
}

test('a byte-swapped (big-endian) version is refused', async () => {
  await rejects(build({ version: 0x03000000 }), 'BIG_ENDIAN', /byte-swapped/);
});

test('key/value and tensor counts larger than the file', async () => {
  await rejects(build({ nKv: 1n << 62n }), 'BAD_COUNT', /key\/value count/);
  await rejects(build({ nTensors: 2n ** 64n - 1n }), 'BAD_COUNT', /tensor count/);
});

test('string length larger than the rest of the file (key, value, tensor name)', async () => {
  await rejects(build({ nKv: 1n, kvs: (b) => b.u64(1n << 40n), dataBytes: 64 }), 'BAD_LENGTH', /length 1099511627776/);
  await rejects(build({ nKv: 1n, kvs: (b) => { b.string('k'); b.u32(V.STRING); b.u64(2n ** 64n - 1n); }, dataBytes: 64 }), 'BAD_LENGTH', /key 'k'/);
  await rejects(build({ nTensors: 1n, tensors: (b) => b.u64(500n), dataBytes: 64 }), 'BAD_LENGTH', /name of tensor #0/);
});

test('array count larger than the rest of the file', async () => {
  await rejects(build({ nKv: 1n, kvs: (b) => { b.string('k'); b.u32(V.ARRAY); b.u32(V.UINT32); b.u64(1n << 50n); } }), 'BAD_LENGTH', /array of 1125899906842624 UINT32/);
  await rejects(build({ nKv: 1n, kvs: (b) => { b.string('k'); b.u32(V.ARRAY); b.u32(V.STRING); b.u64(100n); } }), 'BAD_LENGTH', /array of 100 STRING/);
});

test('duplicate key', async () => {
  await rejects(build({ nKv: 2n, kvs: (b) => { kvU32(b, 'x', 1); kvU32(b, 'x', 2); } }), 'DUPLICATE_KEY', /duplicate key 'x' at offset 41/);
});

test('unknown value type, unknown array element type, nested arrays', async () => {
  await rejects(build({ nKv: 1n, kvs: (b) => { b.string('k'); b.u32(13); b.u32(0); } }), 'BAD_VALUE_TYPE', /unknown value type 13/);
  await rejects(build({ nKv: 1n, kvs: (b) => { b.string('k'); b.u32(V.ARRAY); b.u32(77); b.u64(0n); } }), 'BAD_VALUE_TYPE', /unknown array element type 77/);
  await rejects(build({ nKv: 1n, kvs: (b) => { b.string('k'); b.u32(V.ARRAY); b.u32(V.ARRAY); b.u64(1n); b.u32(V.UINT8); b.u64(0n); } }), 'NESTED_ARRAY', /nested arrays/);
});

test('tensor offset not aligned, or not consecutive', async () => {
  const two = (off: number) => build({
    nTensors: 2n,
    tensors: (b) => { info(b, 'a', [32], T.F32, 0); info(b, 'b', [32], T.F32, off); },
    dataBytes: 512,
  });
  await rejects(two(136), 'BAD_OFFSET', /not a multiple of the alignment 32/, 'b');
  await rejects(two(256), 'BAD_OFFSET', /has data offset 256, expected 128/, 'b');
  await rejects(two(0), 'BAD_OFFSET', /expected 128/, 'b');
});

test('dimensions whose product overflows', async () => {
  // Observed: the pinned llama.cpp (node-llama-cpp 3.22.1) accepts this file; its element count wraps
  // to a small size. Shapes that do not wrap but are huge make it abort in ggml_aligned_malloc.
  await rejects(build({ nTensors: 1n, tensors: (b) => info(b, 'big', [1n << 40n, 1n << 40n], T.F32, 0) }), 'BAD_TENSOR', /overflows/, 'big', 'any');
  await rejects(build({ nTensors: 1n, tensors: (b) => info(b, 'neg', [32, 2n ** 64n - 1n], T.F32, 0) }), 'BAD_TENSOR', /negative dimension/, 'neg');
});

test('a tensor whose data runs past the end of the file', async () => {
  await rejects(build({ nTensors: 1n, tensors: (b) => info(b, 'w', [1024, 1024], T.F32, 0), dataBytes: 64 }), 'TRUNCATED', /data ends at offset/, 'w');
});

test('ne[0] not a multiple of the block size', async () => {
  await rejects(build({ nTensors: 1n, tensors: (b) => info(b, 'q', [48, 2], T.Q4_0, 0), dataBytes: 64 }), 'BAD_TENSOR', /ne\[0\]=48, not a multiple of the block size 32/, 'q');
  await rejects(build({ nTensors: 1n, tensors: (b) => info(b, 'k', [128], T.Q5_K, 0), dataBytes: 512 }), 'BAD_TENSOR', /block size 256/, 'k');
});

test('unknown ggml type id and n_dims > 4', async () => {
  await rejects(build({ nTensors: 1n, tensors: (b) => info(b, 'u', [32], 4, 0), dataBytes: 128 }), 'BAD_TENSOR', /unknown ggml type id 4/, 'u');
  await rejects(build({ nTensors: 1n, tensors: (b) => info(b, 'u', [32], 1000, 0), dataBytes: 128 }), 'BAD_TENSOR', /unknown ggml type id 1000/, 'u');
  await rejects(build({ nTensors: 1n, tensors: (b) => info(b, 'five', [1, 1, 1, 1, 1], T.F32, 0), dataBytes: 32 }), 'BAD_TENSOR', /5 dimensions/, 'five');
});

test('general.alignment must be a UINT32 power of two', async () => {
  await rejects(build({ nKv: 1n, kvs: (b) => kvU32(b, 'general.alignment', 48) }), 'BAD_ALIGNMENT', /power of two.*UINT32 48/);
  await rejects(build({ nKv: 1n, kvs: (b) => kvU32(b, 'general.alignment', 0) }), 'BAD_ALIGNMENT', /UINT32 0/);
  await rejects(build({ nKv: 1n, kvs: (b) => { b.string('general.alignment'); b.u32(V.INT32); b.i32(32); } }), 'BAD_ALIGNMENT', /INT32 32/);
});

test('duplicate tensor names, empty keys and non-0/1 bools', async () => {
  await rejects(build({ nTensors: 2n, tensors: (b) => { info(b, 'a', [32], T.F32, 0); info(b, 'a', [32], T.F32, 128); }, dataBytes: 256 }), 'DUPLICATE_TENSOR', /duplicate tensor name/, 'a');
  await rejects(build({ nKv: 1n, kvs: (b) => { b.string(''); b.u32(V.UINT8); b.u8(0); } }), 'EMPTY_KEY', /empty/);
  await rejects(build({ nKv: 1n, kvs: (b) => { b.string('k'); b.u32(V.BOOL); b.u8(2); } }), 'BAD_BOOL', /not 0 or 1/, 'offset', 'ok'); // llama.cpp reads any byte as a bool; we are stricter
});

const CHECKER = `
  const [koffiPath, binsDir, ...files] = process.argv.slice(1);
  const koffi = (await import(koffiPath)).default;
  const base = koffi.load(binsDir + '/libggml-base.so');
  koffi.struct('gguf_init_params', { no_alloc: 'bool', ctx: 'void *' });
  const init = base.func('void *gguf_init_from_file(const char *fname, gguf_init_params params)');
  const gfree = base.func('void gguf_free(void *ctx)');
  const ggmlFree = base.func('void ggml_free(void *ctx)');
  for (const f of files) {
    const ctxOut = koffi.alloc('void *', 1);
    const g = init(f, { no_alloc: false, ctx: ctxOut }); // no_alloc=false: the tensor data is read too
    const ctx = koffi.decode(ctxOut, 'void *');
    if (ctx) ggmlFree(ctx);
    if (g) gfree(g);
    process.stdout.write((g ? 'ok ' : 'rejected ') + f + '\\n');
  }
`;

test("llama.cpp's gguf_init_from_file agrees: it rejects the malformed files and accepts the good ones", async (t) => {
  if (llamaCppUnavailable) return t.skip(llamaCppUnavailable);
  const { binsDir } = await loadLlamaCpp();
  const koffiPath = createRequire(import.meta.url).resolve('koffi');
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', CHECKER, koffiPath, binsDir, ...cases.map((c) => c.path)], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const verdicts = new Map(r.stdout.trim().split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]).map(([v, p]) => [p, v]));
  assert.ok(cases.length > 300, `cases: ${cases.length}`);
  for (const c of cases) {
    const v = verdicts.get(c.path);
    assert.ok(v, `llama.cpp died before answering on ${c.path} (${c.why}); status ${r.status} signal ${r.signal}`);
    if (c.expect !== 'any') assert.equal(v, c.expect, `${c.path}: ${c.why}`);
  }
});
