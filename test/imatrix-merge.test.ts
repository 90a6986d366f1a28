/**
 * Issue 13 (--in-file): importance matrices combined as `llama-imatrix --in-file A --in-file B`
 * combines them (tools/imatrix load_imatrix): GGUF sums and counts add, a .dat entry is brought
 * back to raw sums and token counts by the chunk size, entries of one file only are kept, dataset
 * names concatenate, the chunk count is ⌊largest count / chunk size⌋; sizes that disagree are a
 * typed error naming the file and the tensor. And with a model, computing continues on top of the
 * loaded matrix: two half runs combined equal one run over all the chunks.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readImatrix } from '../formats/imatrix/read-imatrix.ts';
import { writeImatrixDat, writeImatrixGguf } from '../formats/imatrix/write-imatrix.ts';
import type { Imatrix } from '../formats/imatrix/imatrix.ts';
import { FormatError } from '../formats/errors.ts';
import { readGguf } from '../formats/gguf/reader.ts';
import { loadVocab, tokenize } from '../formats/llama-vocab/index.ts';
import { createRefEngine } from '../kernels/forward/index.ts';
import { drain as drainWith } from '../src/pipeline/drain.ts';
import type { PipelineEvent } from '../src/pipeline/events.ts';
import { imatrixJob } from '../src/pipeline/imatrix.ts';
import { STORIES_F32 } from './quantize-fixtures.ts';
import { runCli } from './support/cli.ts';

const ROOT = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'gguf-forge-imatrix-merge-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const drain = <T>(gen: AsyncGenerator<PipelineEvent, T>) => drainWith(gen, () => {});

/** Deterministic pseudo-random float32 values in [0, scale). */
function values(n: number, seed: number, scale = 100): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.fround((s / 2 ** 32) * scale);
  });
}

const gguf = (entries: [string, Float32Array, number[]][], datasets: string[], chunkSize = 512): Imatrix => ({
  entries: new Map(entries.map(([n, sums, counts]) => [n, { sums, counts }])),
  datasets, chunkCount: Math.floor(Math.max(...entries.flatMap((e) => e[2])) / chunkSize), chunkSize, legacy: false,
});

test('combining GGUF files: every value equals the float64 sum of the inputs; one-file entries kept; counts, datasets and chunk count as llama-imatrix', async () => {
  const a = gguf([
    ['blk.0.attn_q.weight', values(64, 1), [1024]],
    ['blk.0.ffn_down.weight', values(96, 2, 1e6), [1024]],
    ['blk.0.ffn_up_exps.weight', values(3 * 32, 3), [300, 0, 724]],
  ], ['a.txt']);
  const b = gguf([
    ['blk.0.attn_q.weight', values(64, 4, 1e-3), [2048]],
    ['blk.0.ffn_up_exps.weight', values(3 * 32, 5), [100, 200, 1748]],
    ['blk.1.attn_k.weight', values(64, 6), [2048]],
  ], ['b.txt', 'b2.txt']);
  const fa = join(dir, 'a.imatrix.gguf');
  const fb = join(dir, 'b.imatrix.gguf');
  await writeImatrixGguf(fa, a);
  await writeImatrixGguf(fb, b);
  const out = join(dir, 'ab.imatrix.gguf');
  const s = await drain(imatrixJob({ inFiles: [fa, fb], output: out }));
  assert.deepEqual([s.entries, s.chunks, s.chunkSize, s.format], [4, 6, 512, 'gguf']);
  const m = await readImatrix(out);
  assert.deepEqual(m.datasets, ['a.txt', 'b.txt', 'b2.txt']);
  assert.equal(m.chunkSize, 512);
  assert.equal(m.chunkCount, Math.floor(3072 / 512), 'largest count (attn_q: 1024 + 2048) / chunk size');
  assert.deepEqual([...m.entries.keys()], ['blk.0.attn_q.weight', 'blk.0.ffn_down.weight', 'blk.0.ffn_up_exps.weight', 'blk.1.attn_k.weight']);
  for (const [name, e] of m.entries) {
    const ea = a.entries.get(name);
    const eb = b.entries.get(name);
    for (let i = 0; i < e.sums.length; i++) {
      // Two float32 addends: the float64 sum rounded once is exactly what float32 addition gives.
      const want = Math.fround((ea?.sums[i] ?? 0) + (eb?.sums[i] ?? 0));
      assert.equal(e.sums[i], want, `${name}[${i}]`);
    }
    assert.deepEqual(e.counts, (ea ?? eb)!.counts.map((_, k) => (ea?.counts[k] ?? 0) + (eb?.counts[k] ?? 0)), name);
  }
});

test('.dat and GGUF mixed: a .dat entry adds (Σx²/count)·ncall·chunk size and ncall·chunk size; output in either form by suffix', async () => {
  // Sums that are exact in float32 at every step, so the float64 expectation is exact too.
  const ints = (n: number, k: number) => Float32Array.from({ length: n }, (_, i) => ((i * 13 + k) % 97) * 0.25);
  const g = gguf([['blk.0.attn_q.weight', ints(32, 1), [1024]], ['blk.0.attn_k.weight', ints(32, 2), [1024]]], ['g.txt'], 256);
  const d: Imatrix = { entries: new Map([['blk.0.attn_q.weight', { sums: ints(32, 3), counts: [2] }], ['output.weight', { sums: ints(16, 4), counts: [4] }]]), datasets: ['d.txt'], chunkCount: 3, chunkSize: 0, legacy: true };
  const fg = join(dir, 'g.imatrix.gguf');
  const fd = join(dir, 'd.imatrix.dat');
  await writeImatrixGguf(fg, g);
  await writeDatAsIs(fd, d);
  const dread = await readImatrix(fd);
  assert.equal(dread.legacy, true);
  for (const [ctxFlag, cs] of [[undefined, 256], [128, 128]] as const) {
    const out = join(dir, `gd-${cs}.imatrix.gguf`);
    await drain(imatrixJob({ inFiles: [fg, fd], output: out, ctx: ctxFlag }));
    const m = await readImatrix(out);
    assert.equal(m.chunkSize, cs, 'chunk size: --ctx, else the GGUF inputs\' own');
    assert.deepEqual(m.datasets, ['g.txt', 'd.txt']);
    const q = m.entries.get('blk.0.attn_q.weight')!;
    for (let i = 0; i < 32; i++) assert.equal(q.sums[i], g.entries.get('blk.0.attn_q.weight')!.sums[i]! + dread.entries.get('blk.0.attn_q.weight')!.sums[i]! * cs, `attn_q[${i}] at chunk size ${cs}`);
    assert.deepEqual(q.counts, [1024 + 2 * cs]);
    const o = m.entries.get('output.weight')!;
    for (let i = 0; i < 16; i++) assert.equal(o.sums[i], dread.entries.get('output.weight')!.sums[i]! * cs);
    assert.deepEqual(o.counts, [4 * cs]);
    assert.deepEqual(m.entries.get('blk.0.attn_k.weight')!.counts, [1024]);
    assert.equal(m.chunkCount, Math.floor((1024 + 2 * cs) / cs));
  }
  // The same combination written as .dat: llama-quantize's weights (sums / count) survive.
  const outDat = join(dir, 'gd.imatrix.dat');
  await drain(imatrixJob({ inFiles: [fd, fg], output: outDat }));
  const back = await readImatrix(outDat);
  assert.equal(back.legacy, true);
  const q = back.entries.get('blk.0.attn_q.weight')!;
  const ncall = Math.ceil((1024 + 2 * 256) / 256);
  assert.deepEqual(q.counts, [ncall]);
  for (let i = 0; i < 32; i++) {
    const raw = g.entries.get('blk.0.attn_q.weight')!.sums[i]! + dread.entries.get('blk.0.attn_q.weight')!.sums[i]! * 256;
    assert.ok(Math.abs(q.sums[i]! - (raw / (1024 + 512)) * ncall) <= 1e-6 * Math.max(1, q.sums[i]!), `dat attn_q[${i}]`);
  }
});

/** A .dat file holding exactly these values (the writer would rescale a raw matrix). */
async function writeDatAsIs(path: string, m: Imatrix): Promise<void> {
  // writeImatrixDat of a legacy matrix goes through the raw form and back: sums·cs/(ncall·cs)·ncall.
  await writeImatrixDat(path, m);
  const back = await readImatrix(path);
  for (const [n, e] of m.entries) assert.deepEqual(back.entries.get(n), e, `.dat round trip of ${n}`);
}

test('sizes that disagree: a FormatError naming the file and the tensor; nothing written', async () => {
  const fa = join(dir, 'x.imatrix.gguf');
  const fb = join(dir, 'y.imatrix.gguf');
  const fc = join(dir, 'y-experts.imatrix.gguf');
  await writeImatrixGguf(fa, gguf([['blk.0.attn_q.weight', values(64, 1), [512]], ['blk.0.ffn_up_exps.weight', values(64, 2), [10, 20]]], ['x']));
  await writeImatrixGguf(fb, gguf([['blk.0.attn_q.weight', values(128, 1), [512]]], ['y']));
  await writeImatrixGguf(fc, gguf([['blk.0.ffn_up_exps.weight', values(64, 2), [1, 2, 3, 4]]], ['y']));
  const out = join(dir, 'never.imatrix.gguf');
  for (const [other, tensor, what] of [[fb, 'blk.0.attn_q.weight', /128 sums/], [fc, 'blk.0.ffn_up_exps.weight', /4 counts/]] as const) {
    await assert.rejects(drain(imatrixJob({ inFiles: [fa, other], output: out })), (err: unknown) => {
      assert.ok(err instanceof FormatError, String(err));
      assert.equal(err.code, 'IMATRIX_MISMATCH');
      assert.equal(err.context.file, other);
      assert.equal(err.context.tensor, tensor);
      assert.ok(err.message.includes(other) && err.message.includes(tensor) && err.message.includes(fa), err.message);
      assert.match(err.message, what);
      return true;
    });
  }
  assert.ok(!existsSync(out));
  // A .dat entry of another size too (upstream would read past its buffer).
  const fd = join(dir, 'z.imatrix.dat');
  await writeImatrixDat(fd, { entries: new Map([['blk.0.attn_q.weight', { sums: values(32, 9), counts: [1] }]]), datasets: ['z'], chunkCount: 1, chunkSize: 0, legacy: true });
  await assert.rejects(drain(imatrixJob({ inFiles: [fa, fd], output: out })), (err: unknown) => err instanceof FormatError && err.context.file === fd && err.context.tensor === 'blk.0.attn_q.weight');
});

// stories260K: the tokens of eval.txt; chunks of 64 with BOS first (llama-imatrix's chunking).
const CTX = 64;
async function evalTokens(): Promise<Int32Array> {
  const vocab = loadVocab((await readGguf(STORIES_F32)).kvs);
  return tokenize(vocab, readFileSync(join(ROOT, 'samples/stories260K/eval.txt'), 'utf8'), { addSpecial: false, parseSpecial: false });
}

test('two half runs combined (and a run continued from the first half) equal one run over all the chunks', async () => {
  const T = await evalTokens();
  assert.ok(T.length >= 4 * CTX);
  const engine = createRefEngine();
  const run = (textTokens: Int32Array, output: string, dataset: string, inFiles?: string[]) =>
    drain(imatrixJob({ model: STORIES_F32, textTokens, ctx: CTX, output, engine, dataset, inFiles }));
  // [BOS, T[0..4·ctx-1)] in 4 chunks = [BOS, T[0..2·ctx-1)] in 2 chunks, then [BOS, T[2·ctx..4·ctx-1)] in 2
  // (each chunk starts with BOS; the token it replaces is never seen).
  const whole = join(dir, 'whole.imatrix.gguf');
  const first = join(dir, 'first.imatrix.gguf');
  const second = join(dir, 'second.imatrix.gguf');
  const merged = join(dir, 'merged.imatrix.gguf');
  const continued = join(dir, 'continued.imatrix.gguf');
  await run(T.subarray(0, 4 * CTX - 1), whole, 'whole');
  await run(T.subarray(0, 2 * CTX - 1), first, 'first');
  await run(T.subarray(2 * CTX, 4 * CTX - 1), second, 'second');
  const s = await drain(imatrixJob({ inFiles: [first, second], output: merged }));
  assert.equal(s.model, undefined);
  const c = await run(T.subarray(2 * CTX, 4 * CTX - 1), continued, 'second', [first]);
  assert.deepEqual(c.inFiles, [first]);
  const w = await readImatrix(whole);
  for (const [file, datasets] of [[merged, ['first', 'second']], [continued, ['first', 'second']]] as const) {
    const m = await readImatrix(file);
    assert.deepEqual(m.datasets, datasets, file);
    assert.deepEqual([m.chunkCount, m.chunkSize], [w.chunkCount, w.chunkSize], file);
    assert.deepEqual([...m.entries.keys()], [...w.entries.keys()]);
    for (const [name, e] of w.entries) {
      const got = m.entries.get(name)!;
      assert.deepEqual(got.counts, e.counts, name);
      // One run rounds its float64 sums to float32 once; a combination rounds each half, then the sum.
      for (let i = 0; i < e.sums.length; i++) assert.ok(Math.abs(got.sums[i]! - e.sums[i]!) <= 2 ** -22 * e.sums[i]! + 1e-30, `${file} ${name}[${i}]: ${got.sums[i]} vs ${e.sums[i]}`);
    }
  }
});

test('a loaded entry the model contradicts stops the computation naming the file and tensor', async () => {
  const bad = join(dir, 'other-model.imatrix.gguf');
  await writeImatrixGguf(bad, gguf([['blk.0.attn_q.weight', values(48, 1), [512]]], ['other']));
  const T = await evalTokens();
  await assert.rejects(drain(imatrixJob({ model: STORIES_F32, textTokens: T.subarray(0, 2 * CTX), ctx: CTX, output: join(dir, 'never2.gguf'), engine: createRefEngine(), inFiles: [bad] })), (err: unknown) => {
    assert.ok(err instanceof FormatError, String(err));
    assert.equal(err.code, 'IMATRIX_MISMATCH');
    assert.deepEqual([err.context.file, err.context.tensor], [bad, 'blk.0.attn_q.weight']);
    return true;
  });
});

test('CLI: imatrix --in-file A --in-file B.dat -o OUT combines without a model; errors name file and tensor; no model and no file is a usage error', () => {
  const a = join(dir, 'g.imatrix.gguf');
  const d = join(dir, 'd.imatrix.dat');
  const out = join(dir, 'cli-merged.imatrix.gguf');
  const r = runCli(['imatrix', '--in-file', a, '--in-file', d, '-o', out, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { ok: boolean; result: { kind: string; inFiles: string[]; entries: number; format: string; model?: string } };
  assert.deepEqual([doc.ok, doc.result.kind, doc.result.inFiles, doc.result.format, doc.result.model], [true, 'imatrix', [a, d], 'gguf', undefined]);
  assert.ok(existsSync(out));
  const text = runCli(['imatrix', '--in-file', a, '--in-file', d, '-o', join(dir, 'cli-merged.dat')]);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /combined from 2 file\(s\)/);

  const bad = runCli(['imatrix', '--in-file', join(dir, 'x.imatrix.gguf'), '--in-file', join(dir, 'y.imatrix.gguf'), '-o', join(dir, 'cli-never.gguf')]);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /y\.imatrix\.gguf: entry 'blk\.0\.attn_q\.weight' has 128 sums/);
  const none = runCli(['imatrix', '-o', join(dir, 'cli-none.gguf')]);
  assert.notEqual(none.status, 0);
  assert.match(none.stderr, /--in-file/);
  assert.match(runCli(['imatrix', '--help']).stdout, /--in-file <file>[\s\S]*repeatable[\s\S]*--show-statistics/);
});
