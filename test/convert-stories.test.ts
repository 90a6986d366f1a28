/**
 * Issue 4 on the real model: stories260K converted by us loads in llama.cpp, writes the reference
 * text, and scores the reference perplexity; our f32 file is llama.cpp's converter output byte for
 * byte, and `convert --type T` is byte-identical to llama_model_quantize of our f32 file.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertModel } from '../src/pipeline/convert.ts';
import { readGguf } from '../formats/gguf/reader.ts';
import { loadLlamaCpp, llamaCppUnavailable } from './support/llama-cpp.ts';
import { loadModel, greedyCompletion, perplexity } from './support/llama-run.ts';
import { runJob } from './support/run-job.ts';

const STORIES = join(import.meta.dirname, '..', 'samples', 'stories260K');
const REFERENCE_F32 = join(STORIES, 'reference-convert-f32.gguf');
const REFERENCE_TEXT = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball.';
/** llama-perplexity -c 128 on eval.txt, with llama.cpp's own quantizer (samples/stories260K/README.md). */
const REFERENCE_PPL: Record<string, { ppl: number; tol: number }> = {
  f32: { ppl: 3.565, tol: 0.01 },
  q8_0: { ppl: 3.57, tol: 0.01 },
  q5_K_M: { ppl: 3.62, tol: 0.02 },
  q4_0: { ppl: 3.93, tol: 0.02 },
};
const TYPES = ['f32', 'f16', 'q8_0', 'q4_0', 'q5_K_M'] as const;

let dir: string;
const out = (t: string) => join(dir, `stories-${t}.gguf`);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gguf-forge-stories-'));
  for (const t of TYPES) await runJob(convertModel({ source: STORIES, fileType: t, output: out(t), threads: 2 }));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('our f32 GGUF of stories260K is byte-identical to convert_hf_to_gguf.py --outtype f32', () => {
  assert.ok(readFileSync(out('f32')).equals(readFileSync(REFERENCE_F32)));
});

test('every output re-reads as valid GGUF with the expected file type', async () => {
  const ids: Record<string, number> = { f32: 0, f16: 1, q8_0: 7, q4_0: 2, q5_K_M: 17 };
  for (const t of TYPES) {
    const f = await readGguf(out(t));
    assert.equal(f.kvs.find((kv) => kv.key === 'general.file_type')?.value, ids[t], t);
    assert.equal(f.tensors.length, 47, t);
  }
});

test('convert --type T equals llama_model_quantize(our f32, T), whole file', { skip: llamaCppUnavailable ?? false }, async () => {
  const llama = await loadLlamaCpp();
  for (const [t, ftype] of [['q8_0', 7], ['q4_0', 2], ['q5_K_M', 17]] as const) {
    const ref = join(dir, `ref-${t}.gguf`);
    assert.equal(llama.modelQuantize(out('f32'), ref, ftype, { nthread: 2 }), 0);
    assert.ok(readFileSync(out(t)).equals(readFileSync(ref)), `${t} differs from llama-quantize`);
  }
});

test('greedy completion from our f32 and q8_0 files equals the reference text', { skip: llamaCppUnavailable ?? false }, async () => {
  for (const t of ['f32', 'q8_0']) {
    const model = await loadModel(out(t));
    try {
      assert.equal('Once upon a time' + (await greedyCompletion(model, 'Once upon a time', 40)), REFERENCE_TEXT, t);
    } finally {
      await model.dispose();
    }
  }
});

/**
 * Known discrepancy: our q5_K_M file is byte-identical to llama_model_quantize's (test above), yet
 * on this CPU backend llama.cpp's greedy text leaves the reference after "She loved to play": it
 * ranks " with" at p=0.377 against " outside" at p=0.370, a near-tie that another CPU build of
 * llama.cpp resolved the other way. So we assert the shared prefix and that the file is
 * llama.cpp's own bytes; the full-text claim cannot hold for any file on this backend.
 */
test('greedy completion from our q5_K_M file follows the reference up to llama.cpp\'s near-tie', { skip: llamaCppUnavailable ?? false }, async () => {
  const model = await loadModel(out('q5_K_M'));
  try {
    const text = 'Once upon a time' + (await greedyCompletion(model, 'Once upon a time', 40));
    const prefix = 'Once upon a time, there was a little girl named Lily. She loved to play';
    assert.ok(text.startsWith(prefix), text);
  } finally {
    await model.dispose();
  }
});

test('f16 and q4_0 outputs load and generate in llama.cpp', { skip: llamaCppUnavailable ?? false }, async () => {
  for (const t of ['f16', 'q4_0']) {
    const model = await loadModel(out(t));
    try {
      const text = await greedyCompletion(model, 'Once upon a time', 20);
      assert.ok(text.length > 20, `${t}: ${JSON.stringify(text)}`);
    } finally {
      await model.dispose();
    }
  }
});

test('perplexity on eval.txt (context 128) matches llama.cpp reference', { skip: llamaCppUnavailable ?? false }, async () => {
  const text = readFileSync(join(STORIES, 'eval.txt'), 'utf8');
  for (const [t, { ppl, tol }] of Object.entries(REFERENCE_PPL)) {
    const model = await loadModel(out(t));
    try {
      const r = await perplexity(model, text, 128);
      assert.equal(r.chunks, 10);
      assert.ok(Math.abs(r.ppl - ppl) <= tol, `${t}: PPL ${r.ppl.toFixed(4)} not within ±${tol} of ${ppl}`);
    } finally {
      await model.dispose();
    }
  }
});
