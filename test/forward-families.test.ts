/**
 * Issue 16, forward pass on the new families: our forward (reference engine) on our f32 conversion
 * of each family fixture, against transformers' float32 forward in the fixture's logits.json
 * (same argmax at every position; last-position logits within 1e-3). Families whose row has no
 * forward facts yet are refused by the forward (exit 6) and listed here as such.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertModel } from '../src/pipeline/convert.ts';
import { ARCHITECTURES } from '../formats/hf/architectures.ts';
import { ensureFamily, readFixtureJson, type Family } from '../samples/lib/families.ts';
import { ourLogits } from './model-oracle.ts';
import { runJob } from './support/run-job.ts';

let out: string;
before(() => { out = mkdtempSync(join(tmpdir(), 'gguf-forge-fwd-families-')); });
after(() => rmSync(out, { recursive: true, force: true }));

/** The families whose architecture row has forward facts (the others are not run by the forward yet). */
const RUN: Family[] = ['qwen3', 'phi3', 'mixtral', 'gemma2', 'gemma3'];

test('the families the forward runs are exactly the rows with forward facts', () => {
  const hf: Record<Family, string> = { qwen3: 'Qwen3ForCausalLM', phi3: 'Phi3ForCausalLM', mixtral: 'MixtralForCausalLM', gemma2: 'Gemma2ForCausalLM', gemma3: 'Gemma3ForCausalLM' };
  const withForward = (Object.keys(hf) as Family[]).filter((f) => ARCHITECTURES.find((a) => a.hfArchitectures.includes(hf[f]))?.forward);
  assert.deepEqual(withForward, RUN);
});

for (const family of RUN) {
  test(`${family}: our forward's logits equal transformers' (argmax at every position, last position within 1e-3)`, async (t) => {
    const ref = readFixtureJson(family, 'logits.json');
    const path = join(out, `${family}-f32.gguf`);
    await runJob(convertModel({ source: await ensureFamily(family), fileType: 'f32', output: path, threads: 2, validate: false }));
    const { logits, nVocab } = await ourLogits(path, ref.input_ids);
    assert.equal(nVocab, ref.vocab_size);
    const argmax = (row: number) => {
      let best = 0;
      for (let i = 1; i < nVocab; i++) if (logits[row * nVocab + i]! > logits[row * nVocab + best]!) best = i;
      return best;
    };
    const positions = ref.input_ids.length as number;
    assert.deepEqual(Array.from({ length: positions }, (_, p) => argmax(p)), ref.per_position.map((p: { argmax: number }) => p.argmax));
    const last = logits.subarray((positions - 1) * nVocab, positions * nVocab);
    let maxAbs = 0;
    for (let i = 0; i < nVocab; i++) maxAbs = Math.max(maxAbs, Math.abs(last[i]! - ref.last_position_logits[i]));
    t.diagnostic(`${family}: last-position max |Δlogit| ${maxAbs}`);
    assert.ok(maxAbs <= 1e-3, `${family}: last-position max |Δlogit| ${maxAbs}`);
  });
}
