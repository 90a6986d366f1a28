/**
 * GgufWriter with bytes written by others (the quantizer's workers write their output at its
 * place with positional writes, then the writer accounts for it): the file is byte-identical to
 * one written through writeTensorData alone, whatever mix of the two and whatever order the
 * positional writes land in; order rules and sizes are still enforced; big outputs cross the
 * background-flush threshold.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GgufWriter } from '../formats/gguf/writer.ts';
import { str, u32 } from '../formats/gguf/value-types.ts';
import { GgmlTypeId as T } from '../kernels/ggml-types.ts';

const dir = mkdtempSync(join(tmpdir(), 'gguf-forge-positional-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// Sizes that need padding (alignment 32), one empty-free mix of small and > 16 MiB tensors.
const TENSORS = [
  { name: 'a', ne: [7, 3] },
  { name: 'b', ne: [1 << 20, 5] }, // 20 MiB of F32: crosses the 16 MiB background flush
  { name: 'c', ne: [5] },
  { name: 'd', ne: [33, 2] },
];
const data = TENSORS.map((t, k) => {
  const bytes = new Uint8Array(t.ne.reduce((a, b) => a * b, 1) * 4);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + k * 7) & 0xff;
  return bytes;
});

async function write(path: string, byOthers: Set<string>): Promise<void> {
  const w = await GgufWriter.open(path);
  w.addKv('general.architecture', str('test'));
  w.addKv('test.n', u32(4));
  for (const t of TENSORS) w.addTensor(t.name, t.ne, T.F32);
  await w.writeHeader();
  // Others write first, back to front and in two halves, before the writer has reached them.
  for (const k of [...TENSORS.keys()].reverse()) {
    const t = TENSORS[k]!;
    if (!byOthers.has(t.name)) continue;
    const { fd, offset } = w.tensorDataPosition(t.name);
    const half = Math.floor(data[k]!.length / 2);
    writeSync(fd, data[k]!, half, data[k]!.length - half, offset + half);
    writeSync(fd, data[k]!, 0, half, offset);
  }
  for (const [k, t] of TENSORS.entries()) {
    if (byOthers.has(t.name)) {
      const half = Math.floor(data[k]!.length / 2);
      await w.wroteTensorData(t.name, half);
      await w.wroteTensorData(t.name, data[k]!.length - half);
    } else await w.writeTensorData(t.name, data[k]!);
  }
  await w.finish();
}

test('bytes written at tensorDataPosition and reported with wroteTensorData give the same file as writeTensorData', async () => {
  const want = join(dir, 'sequential.gguf');
  await write(want, new Set());
  for (const mix of [['b'], ['a', 'c'], ['a', 'b', 'c', 'd']]) {
    const got = join(dir, `mix-${mix.join('')}.gguf`);
    await write(got, new Set(mix));
    assert.ok(readFileSync(got).equals(readFileSync(want)), `others wrote ${mix.join(', ')}`);
  }
});

test('wroteTensorData keeps the order and size rules of writeTensorData', async () => {
  const w = await GgufWriter.open(join(dir, 'misuse.gguf'));
  w.addTensor('x', [8], T.F32);
  w.addTensor('y', [8], T.F32);
  assert.throws(() => w.tensorDataPosition('x'), /not allowed now/);
  await w.writeHeader();
  assert.throws(() => w.tensorDataPosition('nope'), /no such tensor/);
  await assert.rejects(w.wroteTensorData('y', 32), /expected data for tensor 'x'/);
  await assert.rejects(w.wroteTensorData('x', 33), /33 bytes given but it holds 32/);
  await w.wroteTensorData('x', 32);
  await assert.rejects(w.finish(), /tensor 'y' has 0 of 32 bytes/);
  await w.abort();
});
