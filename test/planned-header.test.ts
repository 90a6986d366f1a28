/**
 * src/pipeline/planned-header.ts: a quantize plan's execution reuses the header the plan read only
 * while the input is the planned file; after the file is rewritten or replaced it reads it again,
 * and a plan run after its input was replaced writes what the new file holds.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, renameSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readGguf, readTensorBytes } from '../formats/gguf/reader.ts';
import { GgufWriter } from '../formats/gguf/writer.ts';
import { str, type GgufValue } from '../formats/gguf/value-types.ts';
import { openFileSource } from '../formats/io/byte-source.ts';
import { plannedHeader, rememberHeader, statForHeader } from '../src/pipeline/planned-header.ts';
import { quantizeGguf } from '../src/pipeline/quantize.ts';
import { drain } from '../src/pipeline/drain.ts';
import type { QuantizePlan } from '../src/pipeline/plan.ts';

const dir = mkdtempSync(join(tmpdir(), 'gguf-forge-planned-header-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const F32 = 'samples/stories260K/reference-convert-f32.gguf';

async function tensorBytes(path: string): Promise<Map<string, Uint8Array>> {
  const f = await readGguf(path);
  const src = await openFileSource(path);
  try {
    return new Map(await Promise.all(f.tensors.map(async (t) => [t.name, Uint8Array.from(await readTensorBytes(src, f, t))] as const)));
  } finally {
    await src.close();
  }
}

test('the header is reused while the file is unchanged, and not after it is touched or replaced', async () => {
  const path = join(dir, 'in.gguf');
  copyFileSync(F32, path);
  const plan = {};
  const before = await statForHeader(path);
  const file = await readGguf(path);
  rememberHeader(plan, file, before);
  assert.equal(await plannedHeader(plan, path), file);
  assert.equal(await plannedHeader({}, path), undefined, 'another plan has no header');
  utimesSync(path, new Date(), new Date(Date.now() + 5000));
  assert.equal(await plannedHeader(plan, path), undefined, 'modified since planning');
  rememberHeader(plan, file, await statForHeader(path));
  copyFileSync(F32, join(dir, 'other.gguf'));
  renameSync(join(dir, 'other.gguf'), path);
  assert.equal(await plannedHeader(plan, path), undefined, 'replaced since planning');
});

test('a plan executed after its input was replaced quantizes the new file', async () => {
  const input = join(dir, 'model.gguf');
  copyFileSync(F32, input);
  let plan: QuantizePlan | undefined;
  const out = join(dir, 'out.gguf');
  await drain(quantizeGguf({ input, output: out, fileType: 'q8_0', dryRun: true, onPlan: (p) => (plan = p) }), () => undefined);
  // The same tensors with other values and one more key (so every tensor's data moves), moved in by rename.
  const changed = join(dir, 'changed.gguf');
  const f = await readGguf(F32);
  const src = await openFileSource(F32);
  const w = await GgufWriter.open(changed);
  for (const { key, ...value } of f.kvs) w.addKv(key, value as GgufValue);
  w.addKv('general.comment', str('a key the planned file did not have'));
  for (const t of f.tensors) w.addTensor(t.name, t.ne, t.type);
  await w.writeHeader();
  for (const t of f.tensors) {
    const bytes = Uint8Array.from(await readTensorBytes(src, f, t));
    if (t.name === 'token_embd.weight') new Float32Array(bytes.buffer, 0, 64).fill(0.5);
    await w.writeTensorData(t.name, bytes);
  }
  await w.finish();
  await src.close();
  renameSync(changed, input);
  await drain(quantizeGguf({ input, output: out, fileType: 'q8_0', plan, validate: false, threads: 1 }), () => undefined);
  const fresh = join(dir, 'fresh.gguf');
  await drain(quantizeGguf({ input, output: fresh, fileType: 'q8_0', validate: false, threads: 1 }), () => undefined);
  const old = join(dir, 'old.gguf');
  await drain(quantizeGguf({ input: F32, output: old, fileType: 'q8_0', validate: false, threads: 1 }), () => undefined);
  // The plan's keys are the planned file's (it was made then); the tensors must be the new file's.
  const [got, want, before] = await Promise.all([tensorBytes(out), tensorBytes(fresh), tensorBytes(old)]);
  assert.deepEqual(got, want, 'the stale plan quantized what the new file holds');
  assert.notDeepEqual(got, before, 'and not what the planned file held');
});
