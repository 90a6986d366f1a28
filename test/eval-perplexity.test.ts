/**
 * `eval` perplexity and KL divergence on stories260K (eval.txt, ctx 128) against llama.cpp's own
 * numbers, computed in the test from node-llama-cpp's next-token probabilities with
 * llama-perplexity's method (test/support/llama-run.ts). `eval` reads eval.txt itself and
 * tokenizes it with our llama.cpp tokenizer; the test checks it got llama.cpp's very tokens.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertModel } from '../src/pipeline/convert.ts';
import { evalModel, type EvalSummary } from '../src/pipeline/eval.ts';
import { llamaCppUnavailable } from './support/llama-cpp.ts';
import { loadModel, perplexity, klDivergence } from './support/llama-run.ts';
import { runJob } from './support/run-job.ts';

const STORIES = join(import.meta.dirname, '..', 'samples', 'stories260K');
const TEXT = readFileSync(join(STORIES, 'eval.txt'), 'utf8');
const skip = llamaCppUnavailable ?? false;
const TOLERANCE: Record<string, number> = { f32: 0.005, q8_0: 0.02, q5_K_M: 0.02, q4_0: 0.02 };

let dir: string;
let textTokens: Int32Array;
const gguf = (t: string) => join(dir, `stories-${t}.gguf`);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gguf-forge-eval-'));
  for (const t of Object.keys(TOLERANCE)) await runJob(convertModel({ source: STORIES, fileType: t, output: gguf(t), threads: 1, validate: false }));
  if (!skip) textTokens = Int32Array.from((await loadModel(gguf('f32'))).tokenize(TEXT, false));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const evaluate = async (model: string, ref?: string): Promise<EvalSummary> => (await runJob(evalModel({ model, ref, textFile: join(STORIES, 'eval.txt'), ctx: 128, threads: 2 }))).result;

test('eval tokenizes eval.txt to llama.cpp\'s tokens (BOS first)', { skip }, async () => {
  const ours = await evaluate(gguf('f32'));
  assert.equal(ours.text.tokens, textTokens.length + 1);
});

test('eval PPL on stories260K (ctx 128) equals llama.cpp\'s: ±0.005 for f32, ±0.02 for q8_0, q5_K_M, q4_0', { skip }, async () => {
  for (const [t, tol] of Object.entries(TOLERANCE)) {
    const ours = await evaluate(gguf(t));
    const ref = await perplexity(await loadModel(gguf(t)), TEXT, 128);
    assert.equal(ours.chunks, ref.chunks, `${t}: chunks`);
    assert.equal(ours.scoredPositions, ref.scored, `${t}: scored positions`);
    const p = ours.model.perplexity;
    console.log(`# ${t}: PPL ${p.ppl.toFixed(4)} ± ${p.pplError.toFixed(4)} (llama.cpp ${ref.ppl.toFixed(4)})`);
    assert.ok(Math.abs(p.ppl - ref.ppl) <= tol, `${t}: PPL ${p.ppl} vs llama.cpp ${ref.ppl}`);
  }
});

test('the HF folder evaluates to the f32 GGUF\'s perplexity', { skip }, async () => {
  const hf = await evaluate(STORIES);
  const f32 = await evaluate(gguf('f32'));
  assert.ok(Math.abs(hf.model.perplexity.ppl - f32.model.perplexity.ppl) < 1e-4, `${hf.model.perplexity.ppl} vs ${f32.model.perplexity.ppl}`);
});

test('KL of q4_0 against f32 is within 5% of llama.cpp\'s full-distribution KL; a model against itself is 0', { skip }, async () => {
  const ours = await evaluate(gguf('q4_0'), gguf('f32'));
  const ref = await klDivergence(await loadModel(gguf('f32')), await loadModel(gguf('q4_0')), TEXT, 128);
  const kl = ours.kl!;
  console.log(`# q4_0 vs f32: KL ${kl.kl.mean.toFixed(5)} ± ${kl.kl.error.toFixed(5)} (llama.cpp ${ref.meanKl.toFixed(5)}), same top ${(100 * kl.sameTop).toFixed(1)}% (llama.cpp ${(100 * ref.top1Agreement).toFixed(1)}%), PPL ratio ${kl.pplRatio.toFixed(4)}`);
  assert.ok(Math.abs(kl.kl.mean - ref.meanKl) <= 0.05 * ref.meanKl, `KL ${kl.kl.mean} vs llama.cpp ${ref.meanKl}`);
  assert.ok(kl.kl.max >= kl.kl.p99 && kl.kl.p99 >= kl.kl.p90 && kl.kl.p90 >= kl.kl.median && kl.kl.median >= 0);
  assert.equal(kl.positions, ours.scoredPositions);
  // The KL statistics accumulate llama.cpp's float nll, the perplexity ones double: equal to ~1e-7.
  assert.ok(Math.abs(kl.pplRatio / (ours.model.perplexity.ppl / ours.ref!.perplexity.ppl) - 1) < 1e-5);

  const self = await evaluate(gguf('q4_0'), gguf('q4_0'));
  assert.equal(self.kl!.kl.mean, 0);
  assert.equal(self.kl!.kl.max, 0);
  assert.equal(self.kl!.sameTop, 1);
  assert.equal(self.kl!.deltaP.rms, 0);
  assert.equal(self.kl!.pplRatio, 1);
});

test('layer streaming: --max-memory sets chunks per pass, and the figures do not depend on it', { skip }, async () => {
  const run = async (maxMemory: number) => (await runJob(evalModel({ model: gguf('q4_0'), ref: STORIES, textFile: join(STORIES, 'eval.txt'), ctx: 128, maxMemory }))).result;
  const one = await run(0); // below what the process already uses: one chunk per pass
  const all = await run(8 * 1024 ** 3);
  assert.equal(one.seqPerPass, 1);
  assert.equal(all.seqPerPass, 10);
  assert.equal(one.model.perplexity.ppl, all.model.perplexity.ppl);
  assert.equal(one.kl!.kl.mean, all.kl!.kl.mean);
});
