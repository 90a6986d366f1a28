/**
 * Our forward's last-layer logits against llama.cpp's (node-llama-cpp, CPU) on a fixed token
 * sequence: the F32 GGUFs of stories260K and of the 256-wide llama / qwen2 / mistral samples, and
 * the same models read straight from their HF folders. llama.cpp runs with an F32 KV cache and no
 * flash attention, so both sides compute attention in f32 (its default F16 cache rounds K, V, Q and
 * the attention weights to half precision, a ~1e-2 difference in logits that says nothing about
 * the forward being right). node-llama-cpp gives probabilities, so logits are compared as
 * log-softmax rows (logits minus their per-row log-sum-exp).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertModel } from '../src/pipeline/convert.ts';
import { ensureSamples, SAMPLE } from '../samples/lib/index.ts';
import { llamaCppUnavailable } from './support/llama-cpp.ts';
import { loadModel } from './support/llama-run.ts';
import { runJob } from './support/run-job.ts';
import { ourLogits, logSoftmaxRows, llamaLogProbs } from './model-oracle.ts';

const STORIES = join(import.meta.dirname, '..', 'samples', 'stories260K');
const skip = llamaCppUnavailable ?? false;
/** A fixed sequence: BOS, then ids below 512 (every model here has a 512-token vocabulary). */
const TOKENS = [1, 306, 501, 263, 419, 29, 372, 471, 263, 217, 78, 257, 365, 354, 289, 13, 400, 2, 511, 3];

let dir: string;
let generated: string;
const models: { name: string; hf: string; gguf: string }[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gguf-forge-logits-'));
  generated = await ensureSamples();
  const folders = [['stories260K', STORIES], ...(['llama', 'qwen2', 'mistral'] as const).map((a) => [a, join(generated, SAMPLE[a].f32)])];
  for (const [name, hf] of folders) {
    const gguf = join(dir, `${name}-f32.gguf`);
    await runJob(convertModel({ source: hf!, fileType: 'f32', output: gguf, threads: 1, validate: false }));
    models.push({ name: name!, hf: hf!, gguf });
  }
});
after(() => rmSync(dir, { recursive: true, force: true }));

function compare(label: string, ours: { logits: Float32Array; nVocab: number }, ref: { logProbs: Float64Array; nVocab: number }): number {
  assert.equal(ours.nVocab, ref.nVocab, `${label}: vocabulary size`);
  const n = ours.nVocab;
  const ls = logSoftmaxRows(ours.logits, n);
  let maxDiff = 0;
  for (let j = 0; j < TOKENS.length; j++) {
    let a = 0;
    let b = 0;
    for (let i = 0; i < n; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(ls[j * n + i]! - ref.logProbs[j * n + i]!));
      if (ours.logits[j * n + i]! > ours.logits[j * n + a]!) a = i;
      if (ref.logProbs[j * n + i]! > ref.logProbs[j * n + b]!) b = i;
    }
    assert.equal(a, b, `${label}: argmax differs at position ${j}`);
  }
  assert.ok(maxDiff <= 1e-3, `${label}: max abs logit difference ${maxDiff} > 1e-3`);
  return maxDiff;
}

test('F32 GGUF logits equal llama.cpp\'s (max abs diff ≤ 1e-3, same argmax at every position)', { skip }, async () => {
  for (const m of models) {
    const ref = await llamaLogProbs(await loadModel(m.gguf), TOKENS);
    const d = compare(`${m.name} gguf`, await ourLogits(m.gguf, TOKENS), ref);
    console.log(`# ${m.name} f32 gguf: max |Δlogit| ${d.toExponential(2)}`);
  }
});

test('the same forward on the HF folders gives llama.cpp\'s logits', { skip }, async () => {
  for (const m of models) {
    const ref = await llamaLogProbs(await loadModel(m.gguf), TOKENS);
    const d = compare(`${m.name} hf`, await ourLogits(m.hf, TOKENS), ref);
    console.log(`# ${m.name} hf folder: max |Δlogit| ${d.toExponential(2)}`);
  }
});
