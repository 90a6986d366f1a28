/**
 * Greedy text from our forward on stories260K equals llama.cpp's reference text
 * (samples/stories260K/README.md): the f32 and q8_0 GGUFs give the reference 40-token completion of
 * "Once upon a time"; q5_K_M gives the pinned x86 llama.cpp build's text (its " with" / " outside"
 * near-tie goes the x86 way). Tokenization and detokenization are llama.cpp's (formats/llama-vocab).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertModel } from '../src/pipeline/convert.ts';
import { openModelWeights } from '../src/model/open-model.ts';
import { greedyTokens } from '../src/model/greedy.ts';
import { loadVocab, tokenize, detokenize } from '../formats/llama-vocab/index.ts';
import { createRefEngine } from '../kernels/forward/index.ts';
import { runJob } from './support/run-job.ts';

const STORIES = join(import.meta.dirname, '..', 'samples', 'stories260K');
const PROMPT = 'Once upon a time';
const REFERENCE = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball.';
const X86_Q5_K_M = 'Once upon a time, there was a little girl named Lily. She loved to play with her toys and eat cars. One day, she saw a big, red car';
const EXPECTED: Record<string, string> = { f32: REFERENCE, q8_0: REFERENCE, q5_K_M: X86_Q5_K_M };

let dir: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gguf-forge-greedy-'));
  for (const t of Object.keys(EXPECTED)) await runJob(convertModel({ source: STORIES, fileType: t, output: join(dir, `${t}.gguf`), threads: 1, validate: false }));
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function complete(path: string): Promise<string> {
  const model = await openModelWeights(path);
  try {
    const vocab = loadVocab(model.kvs);
    const prompt = tokenize(vocab, PROMPT, { addSpecial: true, parseSpecial: false });
    const out = await greedyTokens(model, prompt, 40, createRefEngine(), vocab.eog);
    return PROMPT + detokenize(vocab, out);
  } finally {
    await model.close();
  }
}

for (const [t, expected] of Object.entries(EXPECTED)) {
  test(`greedy 40 tokens from our forward on the ${t} GGUF equal llama.cpp's text`, async () => {
    assert.equal(await complete(join(dir, `${t}.gguf`)), expected);
  });
}

test('greedy text from the HF folder equals the reference text', async () => {
  assert.equal(await complete(STORIES), REFERENCE);
});
