import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SafetensorsWriter } from '../formats/safetensors/writer.ts';
import { readSafetensorsHeader } from '../formats/safetensors/reader.ts';
import { openSafetensorsModel } from '../formats/safetensors/model.ts';
import { toFloat32 } from '../formats/safetensors/dtypes.ts';
import { IoError } from '../formats/errors.ts';

const stories = fileURLToPath(new URL('../samples/stories260K/', import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'forge-st-writer-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

test('rewriting stories260K in odd-sized chunks reproduces the Python-written file byte for byte', async () => {
  const src = await openSafetensorsModel(stories);
  const out = path.join(tmp, 'copy.safetensors');
  try {
    const decls = [...src.tensors.values()].map(({ name, dtype, shape }) => ({ name, dtype, shape }));
    const w = await SafetensorsWriter.open(out, decls, src.headers[0].metadata ?? undefined);
    for (const t of src.tensors.values()) {
      // Stream rows in uneven groups, as a quantizer would.
      const rows = t.shape[0];
      for (let r = 0; r < rows; ) {
        const n = Math.min(rows - r, 1 + (r % 7) * 13);
        await w.writeTensorData(t.name, await src.readRows(t.name, r, n));
        r += n;
      }
    }
    await w.finish();
  } finally {
    await src.close();
  }
  assert.ok(fs.readFileSync(out).equals(fs.readFileSync(path.join(stories, 'model.safetensors'))));
  assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.endsWith('.tmp')), []);
});

test('header is space-padded to a multiple of 8, declared order is data order, all dtypes round-trip', async () => {
  const out = path.join(tmp, 'mixed.safetensors');
  const i64 = new BigInt64Array([-3n, 1n << 40n]);
  const f64 = new Float64Array([0.1, -2.5]);
  const tensors = [
    { name: 'z.last.declared.first', dtype: 'F32' as const, shape: [3], data: new Float32Array([1.5, -2, 3e-8]) },
    { name: 'b', dtype: 'BF16' as const, shape: [2], data: new Uint16Array([0x3f80, 0xc000]) },
    { name: 'h', dtype: 'F16' as const, shape: [1, 2], data: new Uint16Array([0x3c00, 0x8001]) },
    { name: 'e', dtype: 'F32' as const, shape: [0, 5], data: new Float32Array(0) },
    { name: 'q', dtype: 'I32' as const, shape: [2], data: new Int32Array([-7, 123456789]) },
    { name: 'u', dtype: 'U8' as const, shape: [3], data: new Uint8Array([0, 128, 255]) },
    { name: 'i', dtype: 'I8' as const, shape: [2], data: new Int8Array([-128, 127]) },
    { name: 'd', dtype: 'F64' as const, shape: [2], data: f64 },
    { name: 'l', dtype: 'I64' as const, shape: [2], data: i64 },
  ];
  const w = await SafetensorsWriter.open(out, tensors.map(({ name, dtype, shape }) => ({ name, dtype, shape })), { format: 'pt' });
  for (const t of tensors) {
    if (t.data.byteLength) await w.writeTensorData(t.name, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  await w.finish();

  const bytes = fs.readFileSync(out);
  const n = Number(bytes.readBigUInt64LE(0));
  assert.equal(n % 8, 0);
  const text = bytes.subarray(8, 8 + n).toString('utf8');
  assert.match(text, /^\{"__metadata__":\{"format":"pt"\},"z\.last\.declared\.first":/);
  assert.match(text, /\} *$/);

  const st = await readSafetensorsHeader(out);
  assert.deepEqual(st.metadata, { format: 'pt' });
  assert.deepEqual([...st.tensors.keys()], ['z.last.declared.first', 'b', 'h', 'e', 'q', 'u', 'i', 'd', 'l']);
  const get = (name: string) => { const t = st.tensors.get(name)!; return new Uint8Array(bytes.subarray(t.begin, t.end)); };
  assert.deepEqual(toFloat32('F32', get('z.last.declared.first')), new Float32Array([1.5, -2, 3e-8]));
  assert.deepEqual(toFloat32('BF16', get('b')), new Float32Array([1, -2]));
  assert.deepEqual(toFloat32('F16', get('h')), new Float32Array([1, -(2 ** -24)]));
  assert.deepEqual(toFloat32('I32', get('q')), new Float32Array([-7, 123456789]));
  assert.deepEqual(toFloat32('U8', get('u')), new Float32Array([0, 128, 255]));
  assert.deepEqual(toFloat32('I8', get('i')), new Float32Array([-128, 127]));
  assert.deepEqual(toFloat32('F64', get('d')), new Float32Array([0.1, -2.5]));
  assert.deepEqual(toFloat32('I64', get('l')), new Float32Array([-3, 2 ** 40]));
  assert.equal(st.tensors.get('l')!.end, bytes.length);
});

test('data out of declared order, too much data, or finish() early are refused and leave no file', async () => {
  const decls = [{ name: 'a', dtype: 'F32' as const, shape: [2] }, { name: 'b', dtype: 'F32' as const, shape: [2] }];
  const out = path.join(tmp, 'bad.safetensors');

  let w = await SafetensorsWriter.open(out, decls);
  await assert.rejects(w.writeTensorData('b', new Uint8Array(8)), /next tensor in declared order is 'a'/);
  await assert.rejects(w.writeTensorData('a', new Uint8Array(12)), /declared as 8 bytes/);
  await w.writeTensorData('a', new Uint8Array(8));
  await assert.rejects(w.finish(), /'b' was complete/);
  assert.equal(fs.existsSync(out), false);

  w = await SafetensorsWriter.open(out, decls);
  await w.writeTensorData('a', new Uint8Array(8));
  await w.abort();
  assert.equal(fs.existsSync(out), false);
  assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.startsWith('bad.')), []);

  await assert.rejects(SafetensorsWriter.open(out, [decls[0], decls[0]]), /declared twice/);
});

test('large chunks bypass the staging buffer and keep their place', async () => {
  const out = path.join(tmp, 'big.safetensors');
  const big = new Float32Array(700_000).map((_, i) => i);
  const w = await SafetensorsWriter.open(out, [
    { name: 'small', dtype: 'F32', shape: [3] },
    { name: 'big', dtype: 'F32', shape: [700, 1000] },
  ]);
  await w.writeTensorData('small', new Uint8Array(new Float32Array([7, 8, 9]).buffer));
  const bigBytes = new Uint8Array(big.buffer);
  await w.writeTensorData('big', bigBytes.subarray(0, 12));
  await w.writeTensorData('big', bigBytes.subarray(12, 2_000_012));
  await w.writeTensorData('big', bigBytes.subarray(2_000_012));
  await w.finish();
  const dir = fs.mkdtempSync(path.join(tmp, 'big-'));
  fs.renameSync(out, path.join(dir, 'model.safetensors'));
  const m = await openSafetensorsModel(dir);
  try {
    assert.deepEqual(toFloat32('F32', await m.readTensor('small')), new Float32Array([7, 8, 9]));
    const rows = toFloat32('F32', await m.readRows('big', 699, 1));
    assert.equal(rows[0], 699_000);
    assert.equal(rows[999], 699_999);
    assert.deepEqual(await m.readTensor('big'), bigBytes);
  } finally {
    await m.close();
  }
});

test('an unwritable destination is an IoError naming the path', async () => {
  const out = path.join(tmp, 'no-such-dir', 'model.safetensors');
  await assert.rejects(SafetensorsWriter.open(out, [{ name: 'a', dtype: 'U8', shape: [1] }]),
    (err) => err instanceof IoError && err.message.includes(path.join(tmp, 'no-such-dir')) && /no such file/.test(err.message));
});
