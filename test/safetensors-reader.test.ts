import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSafetensorsHeader } from '../formats/safetensors/reader.ts';
import { openSafetensorsModel } from '../formats/safetensors/model.ts';
import { toFloat32 } from '../formats/safetensors/dtypes.ts';
import { FormatError, IoError, UnsupportedError } from '../formats/errors.ts';

const stories = fileURLToPath(new URL('../samples/stories260K/', import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'forge-st-reader-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

/** A .safetensors file from a header object and a data section, with an optional lying length. */
function makeFile(name: string, header: unknown, data: Uint8Array, opts: { headerText?: string; declaredLength?: bigint } = {}): string {
  const json = Buffer.from(opts.headerText ?? JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(opts.declaredLength ?? BigInt(json.length));
  const file = path.join(tmp, name);
  fs.writeFileSync(file, Buffer.concat([len, json, data]));
  return file;
}

async function rejectsFormat(p: Promise<unknown>, code: string, mustName: string[]): Promise<FormatError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof FormatError, `expected FormatError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    for (const s of mustName) assert.ok(err.message.includes(s), `message "${err.message}" should name ${s}`);
    return err;
  }
  assert.fail(`expected FormatError ${code}`);
}

test('reads the real stories260K header: offsets, dtypes, metadata, lazy rows', async () => {
  const file = path.join(stories, 'model.safetensors');
  const st = await readSafetensorsHeader(file);
  assert.deepEqual(st.metadata, { format: 'pt' });
  assert.equal(st.tensors.size, 47); // embed + norm + 5 layers x 9
  const embed = st.tensors.get('model.embed_tokens.weight')!;
  assert.deepEqual(embed.shape, [512, 64]);
  assert.equal(embed.dtype, 'F32');
  assert.equal(embed.begin, 8 + st.headerSize);
  // Data order: each tensor starts where the previous ended, the last ends at the file end.
  const list = [...st.tensors.values()];
  for (let i = 1; i < list.length; i++) assert.equal(list[i].begin, list[i - 1].end);
  assert.equal(list.at(-1)!.end, fs.statSync(file).size);

  const whole = fs.readFileSync(file);
  const model = await openSafetensorsModel(stories);
  try {
    const rows = await model.readRows('model.embed_tokens.weight', 100, 3);
    assert.deepEqual(rows, new Uint8Array(whole.subarray(embed.begin + 100 * 256, embed.begin + 103 * 256)));
    const norm = await model.readTensor('model.norm.weight');
    const n = st.tensors.get('model.norm.weight')!;
    assert.deepEqual(norm, new Uint8Array(whole.subarray(n.begin, n.end)));
    const values = toFloat32('F32', norm);
    assert.equal(values.length, 64);
    assert.ok(values.every(Number.isFinite));
    await assert.rejects(model.readRows('model.embed_tokens.weight', 511, 2), RangeError);
    await rejectsFormat(model.readTensor('nope'), 'SAFETENSORS_NO_TENSOR', ['nope']);
  } finally {
    await model.close();
  }
});

test('header length larger than the file is a FormatError naming file and offset', async () => {
  const f = makeFile('long.safetensors', {}, new Uint8Array(0), { declaredLength: 5000n });
  await rejectsFormat(readSafetensorsHeader(f), 'SAFETENSORS_HEADER_SIZE', [f, 'offset 0', '5000']);
});

test('header length over 100 MB is refused before reading it', async () => {
  const f = makeFile('huge.safetensors', {}, new Uint8Array(0), { declaredLength: 100_000_001n });
  await rejectsFormat(readSafetensorsHeader(f), 'SAFETENSORS_HEADER_SIZE', [f, '100 MB']);
  const g = makeFile('u64.safetensors', {}, new Uint8Array(0), { declaredLength: 0xffff_ffff_ffff_ffffn });
  await rejectsFormat(readSafetensorsHeader(g), 'SAFETENSORS_HEADER_SIZE', [g]);
});

test('file shorter than 8 bytes', async () => {
  const f = path.join(tmp, 'tiny.safetensors');
  fs.writeFileSync(f, Buffer.from([1, 2, 3]));
  await rejectsFormat(readSafetensorsHeader(f), 'SAFETENSORS_TRUNCATED', [f]);
});

test('invalid JSON header', async () => {
  const f = makeFile('badjson.safetensors', null, new Uint8Array(0), { headerText: '{"a": {"dtype": "F32",' });
  await rejectsFormat(readSafetensorsHeader(f), 'SAFETENSORS_JSON', [f, 'offset 8']);
  const g = makeFile('array.safetensors', null, new Uint8Array(0), { headerText: '[1,2]   ' });
  await rejectsFormat(readSafetensorsHeader(g), 'SAFETENSORS_JSON', [g]);
});

test('unknown dtype is a FormatError; a known but unhandled one is UnsupportedError', async () => {
  const f = makeFile('dtype.safetensors', { w: { dtype: 'F17', shape: [2], data_offsets: [0, 8] } }, new Uint8Array(8));
  await rejectsFormat(readSafetensorsHeader(f), 'SAFETENSORS_DTYPE', [f, "'w'", 'F17']);
  const g = makeFile('fp8.safetensors', { w: { dtype: 'F8_E4M3', shape: [2], data_offsets: [0, 2] } }, new Uint8Array(2));
  await assert.rejects(readSafetensorsHeader(g), (err) => err instanceof UnsupportedError && err.message.includes(g) && err.message.includes("'w'"));
});

test('shape x dtype size not matching data_offsets', async () => {
  const f = makeFile('size.safetensors', { w: { dtype: 'BF16', shape: [2, 3], data_offsets: [0, 24] } }, new Uint8Array(24));
  await rejectsFormat(readSafetensorsHeader(f), 'SAFETENSORS_SIZE', [f, "'w'", '12 bytes', 'offset']);
  const g = makeFile('shape.safetensors', { w: { dtype: 'F32', shape: [2, -1], data_offsets: [0, 8] } }, new Uint8Array(8));
  await rejectsFormat(readSafetensorsHeader(g), 'SAFETENSORS_SHAPE', [g, "'w'"]);
  const h = makeFile('offs.safetensors', { w: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, new Uint8Array(8));
  await rejectsFormat(readSafetensorsHeader(h), 'SAFETENSORS_OFFSETS', [h, "'w'"]);
});

test('tensor data outside the file', async () => {
  const f = makeFile('outside.safetensors', { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [4], data_offsets: [8, 24] } }, new Uint8Array(16));
  const err = await rejectsFormat(readSafetensorsHeader(f), 'SAFETENSORS_RANGE', [f, "'b'"]);
  assert.match(err.message, /offset \d+/);
});

test('tensors whose data ranges overlap', async () => {
  const f = makeFile('overlap.safetensors', {
    a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] },
    b: { dtype: 'F16', shape: [4], data_offsets: [12, 20] },
  }, new Uint8Array(20));
  await rejectsFormat(readSafetensorsHeader(f), 'SAFETENSORS_OVERLAP', [f, "'a'", "'b'", 'offset']);
});

test('__metadata__ must map strings to strings', async () => {
  const f = makeFile('meta.safetensors', { __metadata__: { format: 1 } }, new Uint8Array(0));
  await rejectsFormat(readSafetensorsHeader(f), 'SAFETENSORS_METADATA', [f, 'format']);
});

test('zero-size tensors and gaps between tensors are accepted', async () => {
  const f = makeFile('gaps.safetensors', {
    empty: { dtype: 'F32', shape: [0, 4], data_offsets: [0, 0] },
    b: { dtype: 'I8', shape: [3], data_offsets: [4, 7] },
  }, new Uint8Array([9, 9, 9, 9, 1, 2, 253]));
  const st = await readSafetensorsHeader(f);
  assert.equal(st.metadata, null);
  assert.deepEqual([...st.tensors.keys()], ['empty', 'b']);
  assert.deepEqual(toFloat32('I8', fs.readFileSync(f).subarray(st.tensors.get('b')!.begin, st.tensors.get('b')!.end)), new Float32Array([1, 2, -3]));
});

test('sharded folder: index.json naming a missing shard', async () => {
  const dir = fs.mkdtempSync(path.join(tmp, 'shard-missing-'));
  fs.copyFileSync(path.join(stories, 'model.safetensors'), path.join(dir, 'model-00001-of-00002.safetensors'));
  fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({
    metadata: { total_size: 1 },
    weight_map: { 'model.norm.weight': 'model-00001-of-00002.safetensors', 'lm_head.weight': 'model-00002-of-00002.safetensors' },
  }));
  await rejectsFormat(openSafetensorsModel(dir), 'SAFETENSORS_SHARD_MISSING', ['model.safetensors.index.json', 'model-00002-of-00002.safetensors', 'lm_head.weight']);
});

test('sharded folder: index.json naming a tensor absent from its shard', async () => {
  const dir = fs.mkdtempSync(path.join(tmp, 'shard-absent-'));
  fs.copyFileSync(path.join(stories, 'model.safetensors'), path.join(dir, 'model-00001-of-00001.safetensors'));
  fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({
    metadata: {},
    weight_map: { 'model.norm.weight': 'model-00001-of-00001.safetensors', 'lm_head.weight': 'model-00001-of-00001.safetensors' },
  }));
  await rejectsFormat(openSafetensorsModel(dir), 'SAFETENSORS_INDEX_TENSOR', ['model.safetensors.index.json', 'lm_head.weight', 'model-00001-of-00001.safetensors']);
});

test('sharded folder: bad index.json and shard names that leave the folder', async () => {
  const dir = fs.mkdtempSync(path.join(tmp, 'shard-bad-'));
  const index = path.join(dir, 'model.safetensors.index.json');
  fs.writeFileSync(index, '{"weight_map": ');
  await rejectsFormat(openSafetensorsModel(dir), 'SAFETENSORS_INDEX', [index]);
  fs.writeFileSync(index, JSON.stringify({ weight_map: { w: '../model.safetensors' } }));
  await rejectsFormat(openSafetensorsModel(dir), 'SAFETENSORS_INDEX', [index, "'w'"]);
});

test('a folder with no safetensors is a FormatError naming it', async () => {
  const dir = fs.mkdtempSync(path.join(tmp, 'empty-'));
  await rejectsFormat(openSafetensorsModel(dir), 'SAFETENSORS_NONE', [dir]);
});

test('a file whose data section is later truncated fails the read with an offset', async () => {
  const dir = fs.mkdtempSync(path.join(tmp, 'trunc-'));
  const f = path.join(dir, 'model.safetensors');
  fs.copyFileSync(path.join(stories, 'model.safetensors'), f);
  const model = await openSafetensorsModel(dir);
  try {
    fs.truncateSync(f, 10_000);
    await rejectsFormat(model.readTensor('model.norm.weight'), 'SAFETENSORS_TRUNCATED', [f, 'offset']);
  } finally {
    await model.close();
  }
});

test('a missing file is an IoError naming it', async () => {
  const f = path.join(tmp, 'absent.safetensors');
  await assert.rejects(readSafetensorsHeader(f), (err) => err instanceof IoError && err.message.includes(f) && /no such file/.test(err.message));
});
