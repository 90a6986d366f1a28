/**
 * The computed importance matrix against an independent float64 computation: a naive Llama
 * forward written here (RMSNorm, NORM-mode rope, causal GQA attention, SwiGLU) over stories260K,
 * summing x² of every matmul input per column, with llama-imatrix's chunking (BOS over each
 * chunk's first token). Every entry within 1e-5 relative. Also: per-expert entries for a MoE
 * model, --process-output, the file read by our reader and by @huggingface/gguf, the `.dat`
 * round trip, and the CLI (`imatrix`, `inspect`) through the compiled binary.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gguf as hfGguf } from '@huggingface/gguf';
import { readGguf, getKv, readTensorBytes } from '../formats/gguf/reader.ts';
import { openSource } from '../formats/io/byte-source.ts';
import { readImatrix } from '../formats/imatrix/read-imatrix.ts';
import { writeImatrixDat } from '../formats/imatrix/write-imatrix.ts';
import { quantWeights } from '../formats/imatrix/imatrix.ts';
import { loadVocab, tokenize } from '../formats/llama-vocab/index.ts';
import { createRefEngine } from '../kernels/forward/index.ts';
import { computeImatrix } from '../src/pipeline/imatrix-compute.ts';
import { imatrixJob } from '../src/pipeline/imatrix.ts';
import type { PipelineEvent } from '../src/pipeline/events.ts';
import { STORIES_F32, writeLlamaGguf } from './quantize-fixtures.ts';
import { runCli } from './support/cli.ts';

const ROOT = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'gguf-forge-imatrix-compute-'));
const EVAL_TXT = join(ROOT, 'samples/stories260K/eval.txt');
const MOE = join(dir, 'moe-f32.gguf');
// A 2-layer Llama MoE (4 experts, 2 per token) with stories260K's vocabulary, written once.
const moeReady = writeLlamaGguf(MOE, { nLayer: 2, nEmbd: 64, nFf: 128, nHead: 4, nHeadKv: 2, tied: false, nExpert: 4, seed: 5 });
after(() => rmSync(dir, { recursive: true, force: true }));

async function drain<T>(gen: AsyncGenerator<PipelineEvent, T>): Promise<T> {
  for (let s = await gen.next(); ; s = await gen.next()) if (s.done) return s.value;
}

/** Σx² per column of every matmul input, by a float64 forward that shares no code with ours. */
async function naiveSums(tokens: Int32Array, nCtx: number, nChunks: number, bos: number): Promise<Map<string, { sums: Float64Array; count: number }>> {
  const file = await readGguf(STORIES_F32);
  const src = await openSource(STORIES_F32);
  const kv = (k: string) => Number(getKv(file, `llama.${k}`)!.value);
  const nEmbd = kv('embedding_length'), nLayer = kv('block_count'), nHead = kv('attention.head_count'), nHeadKv = kv('attention.head_count_kv');
  const nFf = kv('feed_forward_length'), eps = kv('attention.layer_norm_rms_epsilon');
  const base = getKv(file, 'llama.rope.freq_base') ? kv('rope.freq_base') : 10000;
  const hd = nEmbd / nHead;
  const W = new Map<string, Float64Array>();
  for (const t of file.tensors) {
    const b = await readTensorBytes(src, file, t);
    W.set(t.name, Float64Array.from(new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength))));
  }
  await src.close();
  const out = new Map<string, { sums: Float64Array; count: number }>();
  const observe = (name: string, x: Float64Array[], cols: number) => {
    let e = out.get(name);
    if (!e) out.set(name, (e = { sums: new Float64Array(cols), count: 0 }));
    for (const row of x) for (let j = 0; j < cols; j++) e.sums[j] += row[j]! * row[j]!;
    e.count += x.length;
  };
  const mm = (name: string, x: Float64Array[], rows: number, cols: number) => {
    observe(name, x, cols);
    const w = W.get(name)!;
    return x.map((v) => {
      const y = new Float64Array(rows);
      for (let r = 0; r < rows; r++) { let s = 0; for (let c = 0; c < cols; c++) s += w[r * cols + c]! * v[c]!; y[r] = s; }
      return y;
    });
  };
  const norm = (x: Float64Array[], w: Float64Array) => x.map((v) => {
    let ss = 0;
    for (const a of v) ss += a * a;
    const s = 1 / Math.sqrt(ss / v.length + eps);
    return v.map((a, i) => a * s * w[i]!);
  });
  const rope = (v: Float64Array, heads: number, pos: number) => {
    for (let h = 0; h < heads; h++) for (let i = 0; i < hd; i += 2) {
      const th = pos * Math.pow(base, -i / hd);
      const a = v[h * hd + i]!, b = v[h * hd + i + 1]!;
      v[h * hd + i] = a * Math.cos(th) - b * Math.sin(th);
      v[h * hd + i + 1] = a * Math.sin(th) + b * Math.cos(th);
    }
  };
  const emb = W.get('token_embd.weight')!;
  for (let c = 0; c < nChunks; c++) {
    const ids = Array.from(tokens.subarray(c * nCtx, (c + 1) * nCtx));
    ids[0] = bos;
    let x = ids.map((id) => emb.slice(id * nEmbd, (id + 1) * nEmbd));
    for (let l = 0; l < nLayer; l++) {
      const p = `blk.${l}.`;
      const xn = norm(x, W.get(p + 'attn_norm.weight')!);
      const q = mm(p + 'attn_q.weight', xn, nEmbd, nEmbd);
      const k = mm(p + 'attn_k.weight', xn, nHeadKv * hd, nEmbd);
      const v = mm(p + 'attn_v.weight', xn, nHeadKv * hd, nEmbd);
      q.forEach((r, t) => rope(r, nHead, t));
      k.forEach((r, t) => rope(r, nHeadKv, t));
      const att = q.map((qt, t) => {
        const o = new Float64Array(nEmbd);
        for (let h = 0; h < nHead; h++) {
          const kh = Math.floor(h / (nHead / nHeadKv));
          const s = Array.from({ length: t + 1 }, (_, u) => { let d = 0; for (let i = 0; i < hd; i++) d += qt[h * hd + i]! * k[u]![kh * hd + i]!; return d / Math.sqrt(hd); });
          const m = Math.max(...s);
          const e = s.map((z) => Math.exp(z - m));
          const z = e.reduce((a, b) => a + b, 0);
          for (let u = 0; u <= t; u++) for (let i = 0; i < hd; i++) o[h * hd + i] += (e[u]! / z) * v[u]![kh * hd + i]!;
        }
        return o;
      });
      const ao = mm(p + 'attn_output.weight', att, nEmbd, nEmbd);
      x = x.map((r, t) => r.map((a, i) => a + ao[t]![i]!));
      const fn = norm(x, W.get(p + 'ffn_norm.weight')!);
      const g = mm(p + 'ffn_gate.weight', fn, nFf, nEmbd);
      const u = mm(p + 'ffn_up.weight', fn, nFf, nEmbd);
      const h = g.map((gt, t) => gt.map((a, i) => (a / (1 + Math.exp(-a))) * u[t]![i]!));
      const d = mm(p + 'ffn_down.weight', h, nEmbd, nFf);
      x = x.map((r, t) => r.map((a, i) => a + d[t]![i]!));
    }
  }
  return out;
}

test('the computed imatrix equals a float64 Σx² from a naive forward within 1e-5 relative (stories260K, 4 chunks of 64)', async () => {
  const file = await readGguf(STORIES_F32);
  const vocab = loadVocab(file.kvs);
  const text = tokenize(vocab, readFileSync(EVAL_TXT, 'utf8'), { addSpecial: false, parseSpecial: false });
  const bos = vocab.special.bos!;
  const nCtx = 64, nChunks = 4;
  const r = await drain(computeImatrix({ model: STORIES_F32, textTokens: text, ctx: nCtx, chunks: nChunks, engine: createRefEngine(), dataset: 'eval.txt' }));
  const want = await naiveSums(Int32Array.of(bos, ...text), nCtx, nChunks, bos);
  assert.deepEqual([...r.imatrix.entries.keys()].sort(), [...want.keys()].sort(), 'the same tensors (blk.* weights, no output head)');
  let worst = 0;
  for (const [name, w] of want) {
    const e = r.imatrix.entries.get(name)!;
    assert.deepEqual(e.counts, [nCtx * nChunks], name);
    for (let j = 0; j < w.sums.length; j++) worst = Math.max(worst, Math.abs(e.sums[j]! - w.sums[j]!) / w.sums[j]!);
  }
  assert.ok(worst < 1e-5, `worst relative difference ${worst}`);
  assert.equal(r.imatrix.chunkCount, nChunks);
  assert.equal(r.imatrix.chunkSize, nCtx);
  assert.deepEqual(r.imatrix.datasets, ['eval.txt']);
});

test('MoE: 3-D expert weights get one row of sums and one count per expert; --process-output adds output.weight', async () => {
  await moeReady;
  const r = await drain(computeImatrix({ model: MOE, calibFile: EVAL_TXT, ctx: 32, chunks: 3, engine: createRefEngine(), processOutput: true }));
  const tokens = 32 * 3;
  for (let l = 0; l < 2; l++) {
    const gate = r.imatrix.entries.get(`blk.${l}.ffn_gate_exps.weight`)!;
    const up = r.imatrix.entries.get(`blk.${l}.ffn_up_exps.weight`)!;
    const down = r.imatrix.entries.get(`blk.${l}.ffn_down_exps.weight`)!;
    assert.equal(gate.counts.length, 4);
    assert.equal(gate.sums.length, 4 * 64);
    assert.equal(down.sums.length, 4 * 128);
    // Each token goes to 2 experts: the per-expert counts add up to 2 per token.
    assert.equal(gate.counts.reduce((a, b) => a + b, 0), 2 * tokens);
    assert.deepEqual(up.counts, gate.counts);
    assert.deepEqual(down.counts, gate.counts);
    assert.deepEqual(up.sums, gate.sums, 'gate and up see the same routed inputs');
    // The router is a dense blk.* matmul over every token.
    assert.deepEqual(r.imatrix.entries.get(`blk.${l}.ffn_gate_inp.weight`)!.counts, [tokens]);
  }
  assert.deepEqual(r.imatrix.entries.get('output.weight')?.counts, [tokens]);
  assert.ok(!r.imatrix.entries.has('token_embd.weight'));
});

test('our imatrix GGUF is read by our reader and by @huggingface/gguf, and round-trips through .dat', async () => {
  const out = join(dir, 'moe.imatrix.gguf');
  await moeReady;
  const s = await drain(imatrixJob({ model: MOE, output: out, calibFile: EVAL_TXT, ctx: 32, chunks: 3, engine: createRefEngine() }));
  const ours = await readImatrix(out);
  assert.equal(ours.entries.size, s.entries);
  const hf = await hfGguf(out, { allowLocalFile: true });
  const meta = hf.metadata as unknown as Record<string, unknown>;
  assert.equal(meta['general.type'], 'imatrix');
  assert.equal(meta['imatrix.chunk_count'], 3);
  assert.equal(meta['imatrix.chunk_size'], 32);
  assert.deepEqual(meta['imatrix.datasets'], [EVAL_TXT]);
  const byName = new Map(hf.tensorInfos.map((t) => [t.name, t]));
  assert.equal(hf.tensorInfos.length, 2 * ours.entries.size);
  for (const [name, e] of ours.entries) {
    const shape = byName.get(`${name}.in_sum2`)!.shape.map(Number);
    assert.deepEqual(shape, e.counts.length > 1 ? [e.sums.length / e.counts.length, e.counts.length] : [e.sums.length]);
    assert.deepEqual(byName.get(`${name}.counts`)!.shape.map(Number), e.counts.length > 1 ? [1, e.counts.length] : [1]);
  }
  // .dat: same importance weights (up to float32 rounding of the legacy rescaling).
  const dat = join(dir, 'moe.imatrix.dat');
  await writeImatrixDat(dat, ours);
  const back = await readImatrix(dat);
  assert.equal(back.legacy, true);
  assert.equal(back.chunkCount, 3);
  assert.deepEqual([...back.entries.keys()], [...ours.entries.keys()]);
  for (const [name, e] of ours.entries) {
    const a = quantWeights(ours, e);
    const b = quantWeights(back, back.entries.get(name)!);
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-6 * Math.abs(a[i]!) + 1e-30, `${name}[${i}]: ${a[i]} vs ${b[i]}`);
  }
});

test('CLI: imatrix --json writes the file (GGUF, or .dat by suffix) and inspect shows it', async () => {
  const out = join(dir, 'cli.imatrix.gguf');
  const r = runCli(['imatrix', join(ROOT, 'samples/stories260K'), '--calib', EVAL_TXT, '--ctx', '64', '--chunks', '3', '--threads', '1', '-o', out, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { ok: boolean; result: { entries: number; chunks: number; format: string } };
  assert.deepEqual([doc.ok, doc.result.entries, doc.result.chunks, doc.result.format], [true, 35, 3, 'gguf']);
  const i = runCli(['inspect', out, '--json']);
  assert.equal(i.status, 0, i.stderr);
  const rep = JSON.parse(i.stdout) as { result: { format: string; chunkCount: number; datasets: string[]; entries: { name: string; top: { column: number; value: number }[]; bottom: unknown[] }[] } };
  assert.equal(rep.result.format, 'gguf');
  assert.equal(rep.result.chunkCount, 3);
  assert.deepEqual(rep.result.datasets, [EVAL_TXT]);
  assert.equal(rep.result.entries.length, 35);
  const e = rep.result.entries[0]!;
  assert.ok(e.top[0]!.value >= e.top[1]!.value && e.top.length === 5 && e.bottom.length === 5);
  const text = runCli(['inspect', out]);
  assert.match(text.stdout, /importance matrix, llama\.cpp GGUF/);
  assert.match(text.stdout, /most important columns/);
  const dat = join(dir, 'cli.imatrix.dat');
  assert.equal(runCli(['imatrix', join(ROOT, 'samples/stories260K'), '--calib', EVAL_TXT, '--ctx', '64', '--chunks', '2', '--threads', '1', '-o', dat]).status, 0);
  assert.match(runCli(['inspect', dat]).stdout, /legacy \.dat/);
});

test('convert --imatrix auto computes the matrix in the same run: the tensors equal convert --imatrix FILE with that matrix', async () => {
  const { convertModel } = await import('../src/pipeline/convert.ts');
  const calib = join(ROOT, 'test/fixtures/imatrix-calib-stories.txt');
  const file = join(dir, 'hf.imatrix.gguf');
  await drain(imatrixJob({ model: join(ROOT, 'samples/stories260K'), output: file, calibFile: calib, ctx: 64, threads: 1 }));
  const auto = join(dir, 'auto.gguf');
  const fromFile = join(dir, 'from-file.gguf');
  const a = await drain(convertModel({ source: join(ROOT, 'samples/stories260K'), output: auto, fileType: 'q4_1', imatrix: 'auto', calib: { file: calib, ctx: 64 }, threads: 1, validate: false }));
  await drain(convertModel({ source: join(ROOT, 'samples/stories260K'), output: fromFile, fileType: 'q4_1', imatrix: file, threads: 1, validate: false }));
  assert.equal(a.imatrix?.file, 'auto');
  assert.deepEqual(a.imatrix?.datasets, [calib]);
  const fa = await readGguf(auto);
  const fb = await readGguf(fromFile);
  assert.equal(getKv(fa, 'quantize.imatrix.file')?.value, 'auto');
  assert.equal(getKv(fb, 'quantize.imatrix.file')?.value, file);
  assert.equal(getKv(fa, 'quantize.imatrix.entries_count')?.value, 35);
  const ba = readFileSync(auto).subarray(fa.dataOffset);
  const bb = readFileSync(fromFile).subarray(fb.dataOffset);
  assert.ok(ba.equals(bb), 'tensor data differs');
  // Without an imatrix, q4_1 gives other bytes (the weights are used).
  const none = join(dir, 'none.gguf');
  await drain(convertModel({ source: join(ROOT, 'samples/stories260K'), output: none, fileType: 'q4_1', threads: 1, validate: false }));
  const fn = await readGguf(none);
  assert.ok(!readFileSync(none).subarray(fn.dataOffset).equals(bb));
});
