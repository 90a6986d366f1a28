/**
 * Issue 17's fuzz test: a seeded mutator (test/support/fuzz-mutator.ts) over GGUF, safetensors,
 * config.json, tokenizer.json and tokenizer_config.json, starting from stories260K and the generated
 * Qwen2 sample. Every outcome must be a valid result or one of our typed errors with a safe message
 * (escaped, at most MESSAGE_MAX characters): never a generic JS error, a hang (15 s per case) or a
 * big allocation (RSS rise over 512 MiB, or the worker's 1 GiB heap). Up to 3,000 cases, started
 * within 50 s so the test stays near a minute on a busy machine; `npm run fuzz` runs 100,000.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runFuzz } from './support/fuzz-runner.ts';

test('fuzz: seeded mutated inputs give a valid result or a typed error, never a crash, hang or big allocation', async () => {
  const stats = await runFuzz({ seed: 17, cases: 3000, deadlineSeconds: 50 });
  const failures = stats.failures.map((f) => `case ${f.i} (${f.target}) ${f.kind}: ${f.detail}`);
  assert.deepEqual(failures, [], `seed ${stats.seed}: replay with npm run fuzz`);
  console.log(`fuzz: ${stats.cases} cases in ${stats.seconds.toFixed(1)} s: ${stats.ok} valid, ${stats.typed} typed errors (${Object.keys(stats.codes).length} codes), slowest ${stats.slowestCaseMs.toFixed(0)} ms, RSS rise ≤ ${stats.maxRssRiseMb.toFixed(0)} MiB`);
  assert.ok(stats.cases >= 450, `only ${stats.cases} cases ran in the time budget`);
  // Both outcomes occur for every target: the mutator neither only breaks nor only keeps files.
  for (const [target, t] of Object.entries(stats.byTarget)) {
    assert.ok(t.ok > 0 || target === 'safetensors', `${target}: no valid result in ${t.cases} cases`);
    assert.ok(t.ok < t.cases, `${target}: no error in ${t.cases} cases`);
  }
});
