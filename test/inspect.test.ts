import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gguf } from '@huggingface/gguf';
import { runInspectCommand, type InspectCommandOptions } from '../src/cli/commands/inspect.ts';
import { exitCodeFor } from '../src/cli/exit-codes.ts';
import { ForgeError } from '../formats/errors.ts';
import { GgufWriter } from '../formats/gguf/writer.ts';
import { readGguf, readTensorBytes } from '../formats/gguf/reader.ts';
import { openFileSource } from '../formats/io/byte-source.ts';
import { decodeBlock } from '../formats/gguf/block-layouts.ts';
import { GgufValueType as V, arr, str, u64, i64 } from '../formats/gguf/value-types.ts';
import { GgmlTypeId as T } from '../kernels/ggml-types.ts';
import { loadLlamaCpp, llamaCppUnavailable } from './support/llama-cpp.ts';
import type { InspectReport } from '../src/inspect/report.ts';
import type { BlockView } from '../src/inspect/block-view.ts';

const REF = new URL('../samples/stories260K/reference-convert-f32.gguf', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'forge-inspect-'));

/**
 * Runs the inspect command in-process with stdout captured through its `write` hook (patching
 * process.stdout would swallow the test runner's own protocol), and maps errors to exit codes
 * exactly as the CLI's main() does. test/inspect-cli.test.ts runs the real binary end to end.
 */
async function cli(_cmd: 'inspect', file: string, ...flags: string[]): Promise<{ code: number; out: string; err: string }> {
  const opts: InspectCommandOptions = {};
  for (let i = 0; i < flags.length; i++) {
    if (flags[i] === '--json') opts.json = true;
    else if (flags[i] === '--full-arrays') opts.fullArrays = true;
    else if (flags[i] === '--block') opts.block = flags[++i];
    else throw new Error(`test helper: unknown flag ${flags[i]}`);
  }
  let out = '';
  try {
    await runInspectCommand(file, opts, (s) => (out += s));
    return { code: 0, out, err: '' };
  } catch (e) {
    if (!(e instanceof ForgeError)) throw e;
    return { code: exitCodeFor(e.kind), out, err: e.message };
  }
}

async function inspectJson(target: string, ...flags: string[]): Promise<InspectReport> {
  const r = await cli('inspect', target, '--json', ...flags);
  assert.equal(r.code, 0, r.err);
  const doc = JSON.parse(r.out) as { ok: boolean; result: InspectReport };
  assert.equal(doc.ok, true);
  return doc.result;
}

const jsonish = (v: unknown): unknown => (Object.is(v, -0) ? 0 : typeof v === 'bigint' ? (v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()) : v);

/** `inspect --json --full-arrays` must say exactly what @huggingface/gguf says about the same file. */
async function assertAgreesWithHf(path: string) {
  const ours = await inspectJson(path, '--full-arrays');
  const hf = await gguf(path, { allowLocalFile: true, typedMetadata: true, computeParametersCount: true });
  const { version, tensor_count, kv_count, ...hfKvs } = hf.typedMetadata;
  assert.equal(ours.format.version, version.value);
  assert.equal(ours.tensors.length, Number(tensor_count.value));
  assert.equal(ours.metadata.length, Number(kv_count.value));
  assert.deepEqual(ours.metadata.map((k) => k.key), Object.keys(hfKvs));
  for (const kv of ours.metadata) {
    const h = hfKvs[kv.key]!;
    assert.equal(kv.type, V[h.type], kv.key);
    if (kv.type === 'ARRAY') {
      assert.equal(kv.elemType, V[h.subType!], kv.key);
      assert.deepEqual(kv.values, (h.value as unknown[]).map(jsonish), kv.key);
      assert.equal(kv.count, (h.value as unknown[]).length);
    } else {
      assert.deepEqual(kv.value, jsonish(h.value), kv.key);
    }
  }
  assert.deepEqual(
    ours.tensors.map((t) => ({ name: t.name, type: t.typeId, shape: t.shape, offset: t.offset })),
    hf.tensorInfos.map((t) => ({ name: t.name, type: t.dtype as number, shape: t.shape.map(Number), offset: Number(t.offset) })),
  );
  assert.equal(ours.format.dataOffset, Number(hf.tensorDataOffset));
  assert.equal(ours.parameterCount, hf.parameterCount);
  return ours;
}

test('inspect --json agrees with @huggingface/gguf on llama.cpp\'s converted stories260K', async () => {
  const r = await assertAgreesWithHf(REF);
  assert.equal(r.fileSize, readFileSync(REF).length);
  assert.deepEqual(r.fileType, { id: 0, name: 'f32', source: 'general.file_type' });
  assert.deepEqual(r.summary.map((s) => [s.type, s.count, s.share]), [['F32', r.tensors.length, 1]]);
  assert.equal(r.tensorBytes, r.tensors.reduce((a, t) => a + t.bytes, 0));
  const q = r.tensors.find((t) => t.name === 'blk.0.ffn_down.weight')!;
  assert.deepEqual(q.shape, [172, 64]);
  assert.equal(q.bitsPerWeight, 32);
});

const QUANTIZED: [number, string][] = [[7, 'q8_0'], [2, 'q4_0'], [17, 'q5_K_M']];
const quantPath = (ftype: number) => join(dir, `ref-${ftype}.gguf`);

before(async () => {
  if (llamaCppUnavailable) return;
  const ll = await loadLlamaCpp();
  for (const [ftype] of QUANTIZED) assert.equal(ll.modelQuantize(REF, quantPath(ftype), ftype, { nthread: 2 }), 0);
});

for (const [ftype, name] of QUANTIZED) {
  test(`inspect --json agrees with @huggingface/gguf on a ${name} file made by llama.cpp's quantizer`, async (t) => {
    if (llamaCppUnavailable) return t.skip(llamaCppUnavailable);
    const r = await assertAgreesWithHf(quantPath(ftype));
    assert.deepEqual(r.fileType, { id: ftype, name, source: 'general.file_type' });
    assert.ok(r.summary.length >= 2, 'a quantized mix has several types');
    assert.ok(Math.abs(r.summary.reduce((a, s) => a + s.share, 0) - 1) < 1e-12);
  });
}

test('--block decodes one block of a llama.cpp-quantized tensor, read by offset', async (t) => {
  if (llamaCppUnavailable) return t.skip(llamaCppUnavailable);
  const path = quantPath(2);
  const file = await readGguf(path);
  const tensor = file.tensors.find((x) => x.type === T.Q4_0)!;
  const r = await cli('inspect', path, '--block', `${tensor.name}:3`, '--json');
  assert.equal(r.code, 0, r.err);
  const view = JSON.parse(r.out).result as BlockView;
  const src = await openFileSource(path);
  const all = await readTensorBytes(src, file, tensor);
  await src.close();
  assert.equal(view.type, 'Q4_0');
  assert.equal(view.fileOffset, file.dataOffset + tensor.offset + 3 * 18);
  assert.deepEqual(view.fields, decodeBlock(T.Q4_0, all.subarray(54, 72)));
  const text = await cli('inspect', path, '--block', tensor.name);
  assert.match(text.out, /Block:\s+0 of \d+, 18 bytes/);
  assert.match(text.out, /\n  d\s+-?\d/);
  assert.match(text.out, /\n  qs\s+\[\d+(, \d+){15}\]/);
});

test('human output shows format, keys with types, arrays by type and length, tensor table and summary', async () => {
  const r = await cli('inspect', REF);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Format:\s+GGUF v3, alignment 32, tensor data at offset 14496/);
  assert.match(r.out, /File size:\s+1\.01 MiB \(1054624 bytes\)/);
  assert.match(r.out, /Parameters:\s+260K \(260032\)/);
  assert.match(r.out, /File type:\s+f32 \(general.file_type = 0\)/);
  assert.match(r.out, /llama.block_count\s+UINT32\s+5/);
  assert.match(r.out, /tokenizer.ggml.tokens\s+STRING\[512\]\s+\["<unk>", "<s>", "<\/s>", .*\.\.\.\]/);
  assert.match(r.out, /blk.0.ffn_down.weight\s+F32\s+\[172, 64\]\s+131328\s+44032\s+32.00/);
  assert.match(r.out, /By type\n.*\n\s+F32\s+47\s+260032\s+1015.75 KiB\s+100.0%/);
});

test('the implied file type is inferred from the dominant quantized type when general.file_type is absent; big u64 become strings', async () => {
  const path = join(dir, 'nofiletype.gguf');
  const w = await GgufWriter.open(path);
  w.addKv('general.architecture', str('llama'));
  w.addKv('big', u64(2n ** 60n));
  w.addKv('small', i64(-5n));
  w.addKv('ids', arr(V.UINT64, [1n, 2n ** 63n]));
  w.addTensor('a', [256, 4], T.Q4_K);
  w.addTensor('b', [256], T.F32);
  w.addTensor('c', [32, 2], T.Q8_0);
  await w.writeHeader();
  await w.writeTensorData('a', new Uint8Array(4 * 144));
  await w.writeTensorData('b', new Uint8Array(1024));
  await w.writeTensorData('c', new Uint8Array(68));
  await w.finish();
  const r = await inspectJson(path);
  assert.deepEqual(r.fileType, { id: 15, name: 'q4_K_M', source: 'inferred' });
  assert.deepEqual(r.metadata.find((k) => k.key === 'big')!.value, '1152921504606846976');
  assert.equal(r.metadata.find((k) => k.key === 'small')!.value, -5);
  assert.deepEqual(r.metadata.find((k) => k.key === 'ids')!.values, [1, '9223372036854775808']);
  assert.equal((await cli('inspect', path)).out.includes('q4_K_M (inferred from tensor types)'), true);
});

/** A 127.0.0.1 server that honours Range requests (or not, or fails), counting the bytes it sends. */
async function serve(body: Buffer, mode: 'range' | 'no-range' | '404'): Promise<{ url: string; server: Server; sent: () => number }> {
  let sent = 0;
  const server = createServer((req, res) => {
    if (mode === '404') return res.writeHead(404).end();
    const m = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? '');
    if (mode === 'no-range' || !m) {
      sent += body.length;
      return res.writeHead(200, { 'content-length': body.length }).end(body);
    }
    const start = Number(m[1]);
    const end = Math.min(Number(m[2]), body.length - 1);
    sent += end - start + 1;
    res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${body.length}`, 'content-length': end - start + 1 }).end(body.subarray(start, end + 1));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/model.gguf`, server, sent: () => sent };
}

test('inspect works on an http:// URL through range reads and matches the local report', async () => {
  const body = readFileSync(REF);
  const s = await serve(body, 'range');
  try {
    const remote = await inspectJson(s.url);
    const local = await inspectJson(REF);
    assert.deepEqual({ ...remote, source: '' }, { ...local, source: '' });
    assert.equal(remote.source, s.url);
    assert.ok(s.sent() < body.length, `header only: sent ${s.sent()} of ${body.length} bytes`);
    const block = await cli('inspect', s.url, '--block', 'output_norm.weight:2', '--json');
    assert.equal(block.code, 0, block.err);
    assert.equal(typeof (JSON.parse(block.out).result as BlockView).fields.value, 'number');
  } finally {
    s.server.close();
  }
});

test('URL failures are network errors (exit 5): no range support, HTTP 404', async () => {
  for (const mode of ['no-range', '404'] as const) {
    const s = await serve(Buffer.from('GGUF'), mode);
    try {
      const r = await cli('inspect', s.url);
      assert.equal(r.code, 5, r.err);
      assert.match(r.err, mode === '404' ? /HTTP 404/ : /range requests/);
      assert.ok(r.err.includes(s.url));
    } finally {
      s.server.close();
    }
  }
});

test('bad input maps to typed errors and exit codes naming the file', async () => {
  const bad = join(dir, 'bad.gguf');
  writeFileSync(bad, Buffer.from('GGUF\x01\x00\x00\x00'));
  let r = await cli('inspect', bad);
  assert.equal(r.code, 4);
  assert.match(r.err, /bad\.gguf.*version 1/);
  r = await cli('inspect', join(dir, 'missing.gguf'));
  assert.equal(r.code, 2, 'a missing input is a usage error');
  assert.match(r.err, /missing\.gguf/);
  r = await cli('inspect', REF, '--block', 'nope');
  assert.equal(r.code, 2);
  assert.match(r.err, /no tensor named 'nope'/);
  r = await cli('inspect', REF, '--block', 'output_norm.weight:64');
  assert.equal(r.code, 2);
  assert.match(r.err, /has 64 blocks; index 64 is out of range/);
  r = await cli('inspect', dir);
  assert.equal(r.code, 6);
});
