/**
 * Issue 13 (files): importance matrices in llama.cpp's current GGUF form and the legacy .dat form.
 * Ours round-trip, @huggingface/gguf reads our GGUF with the keys and tensors llama-imatrix writes,
 * a .dat round trip keeps the weights llama-quantize would derive, and every corrupt input is a
 * typed error naming the file (and the entry where there is one).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gguf } from '@huggingface/gguf';
import { readImatrix } from '../formats/imatrix/read-imatrix.ts';
import { writeImatrixDat, writeImatrixGguf } from '../formats/imatrix/write-imatrix.ts';
import { quantWeights, type Imatrix } from '../formats/imatrix/imatrix.ts';
import { FormatError } from '../formats/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'imatrix-'));

function sample(): Imatrix {
  const col = (n: number, k: number) => Float32Array.from({ length: n }, (_, i) => Math.fround(((i * 7 + k) % 13) * 0.37 + k));
  return {
    entries: new Map([
      ['blk.0.attn_q.weight', { sums: col(64, 1), counts: [2048] }],
      ['blk.0.ffn_down.weight', { sums: col(172, 2), counts: [2048] }],
      // MoE: three experts of 32 columns; expert 2 never saw a token.
      ['blk.0.ffn_up_exps.weight', { sums: Float32Array.from([...col(32, 3), ...col(32, 4), ...new Float32Array(32)]), counts: [900, 1148, 0] }],
    ]),
    datasets: ['calib.txt'],
    chunkCount: 4,
    chunkSize: 512,
    legacy: false,
  };
}

test('GGUF imatrix: our reader gets back what we wrote; @huggingface/gguf sees llama-imatrix keys and tensors', async () => {
  const path = join(dir, 'a.imatrix.gguf');
  const m = sample();
  await writeImatrixGguf(path, m);
  const back = await readImatrix(path);
  assert.equal(back.legacy, false);
  assert.deepEqual(back.datasets, ['calib.txt']);
  assert.equal(back.chunkCount, 4);
  assert.equal(back.chunkSize, 512);
  assert.deepEqual([...back.entries.keys()], [...m.entries.keys()].sort());
  for (const [name, e] of m.entries) assert.deepEqual(back.entries.get(name), e, name);

  const hf = await gguf(path, { allowLocalFile: true });
  const md = hf.metadata as Record<string, unknown>;
  assert.equal(md['general.type'], 'imatrix');
  assert.deepEqual(md['imatrix.datasets'], ['calib.txt']);
  assert.equal(md['imatrix.chunk_count'], 4);
  assert.equal(md['imatrix.chunk_size'], 512);
  assert.deepEqual(hf.tensorInfos.map((t) => [t.name, t.shape.map(Number)]), [
    ['blk.0.attn_q.weight.in_sum2', [64]], ['blk.0.attn_q.weight.counts', [1]],
    ['blk.0.ffn_down.weight.in_sum2', [172]], ['blk.0.ffn_down.weight.counts', [1]],
    ['blk.0.ffn_up_exps.weight.in_sum2', [32, 3]], ['blk.0.ffn_up_exps.weight.counts', [1, 3]],
  ]);
});

test('quantWeights: GGUF sums over counts (1 for an expert without tokens), as llama-quantize loads them', () => {
  const m = sample();
  const w = quantWeights(m, m.entries.get('blk.0.ffn_up_exps.weight')!);
  const e = m.entries.get('blk.0.ffn_up_exps.weight')!;
  assert.equal(w[0], Math.fround(e.sums[0]! / 900));
  assert.equal(w[32 + 5], Math.fround(e.sums[37]! / 1148));
  assert.deepEqual([...w.subarray(64)], new Array(32).fill(1));
});

test('.dat round trip: legacy file read back gives the same llama-quantize weights (1e-6 relative)', async () => {
  const m = sample();
  const path = join(dir, 'a.dat');
  await writeImatrixDat(path, m);
  const legacy = await readImatrix(path);
  assert.equal(legacy.legacy, true);
  assert.equal(legacy.chunkCount, 4);
  assert.deepEqual(legacy.datasets, ['calib.txt']);
  for (const [name, e] of m.entries) {
    const a = quantWeights(m, e), b = quantWeights(legacy, legacy.entries.get(name)!);
    assert.equal(a.length, b.length);
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-6 * Math.abs(a[i]!) + 1e-30, `${name}[${i}]: ${a[i]} vs ${b[i]}`);
  }
  // And back to GGUF (rescaled by the chunk size, as llama-imatrix's loader does), then to the same weights.
  const again = join(dir, 'b.imatrix.gguf');
  await writeImatrixGguf(again, legacy, { chunkSize: 512 });
  const g = await readImatrix(again);
  for (const [name, e] of m.entries) {
    const a = quantWeights(m, e), b = quantWeights(g, g.entries.get(name)!);
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-6 * Math.abs(a[i]!) + 1e-30, `${name}[${i}]`);
  }
});

test('corrupt files: every truncation of both forms is a FormatError naming the file', async () => {
  const m = sample();
  for (const [file, write] of [['t.imatrix.gguf', writeImatrixGguf], ['t.dat', writeImatrixDat]] as const) {
    const path = join(dir, file);
    await write(path, m);
    const whole = readFileSync(path);
    const cut = join(dir, `cut-${file}`);
    // The .dat trailer is optional (upstream reads it only if present), so cuts inside it still load;
    // a GGUF may lose the padding after its last tensor.
    const { readGguf } = await import('../formats/gguf/reader.ts');
    const last = file.endsWith('.dat') ? undefined : (await readGguf(path));
    const lastRequired = last ? last.dataOffset + last.tensors.at(-1)!.offset + last.tensors.at(-1)!.nbytes : whole.length - 4 - 4 - 'calib.txt'.length;
    for (let n = 0; n < lastRequired; n += Math.max(1, Math.floor(lastRequired / 200))) {
      writeFileSync(cut, whole.subarray(0, n));
      await assert.rejects(readImatrix(cut), (e: unknown) => e instanceof FormatError && e.message.includes(cut), `${file} cut at ${n}`);
    }
  }
});

test('bad values: non-finite or negative sums, a missing half, and a model GGUF are refused with the entry named', async () => {
  const nan = sample();
  nan.entries.get('blk.0.ffn_down.weight')!.sums[5] = NaN;
  await writeImatrixGguf(join(dir, 'nan.gguf'), nan);
  await assert.rejects(readImatrix(join(dir, 'nan.gguf')), /'blk\.0\.ffn_down\.weight' has a non-finite value NaN at column 5/);

  const neg = sample();
  neg.entries.get('blk.0.attn_q.weight')!.sums[0] = -1;
  await writeImatrixDat(join(dir, 'neg.dat'), neg);
  await assert.rejects(readImatrix(join(dir, 'neg.dat')), /'blk\.0\.attn_q\.weight' has a negative value/);

  const { GgufWriter } = await import('../formats/gguf/writer.ts');
  const { str } = await import('../formats/gguf/value-types.ts');
  const lone = join(dir, 'lone.gguf');
  const w = await GgufWriter.open(lone);
  w.addKv('general.type', str('imatrix'));
  w.addTensor('blk.0.attn_k.weight.in_sum2', [4], 0);
  await w.writeHeader();
  await w.writeTensorData('blk.0.attn_k.weight.in_sum2', new Uint8Array(16));
  await w.finish();
  await assert.rejects(readImatrix(lone), /'blk\.0\.attn_k\.weight' has sums but no counts/);

  const model = join(dir, 'model.gguf');
  const w2 = await GgufWriter.open(model);
  w2.addKv('general.type', str('model'));
  await w2.writeHeader();
  await w2.finish();
  await assert.rejects(readImatrix(model), /is a GGUF model file, not an importance matrix/);
});
