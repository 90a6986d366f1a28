/**
 * Issue 16, forward pass on the new families: our forward (reference engine) on our f32 conversion
 * of each family fixture, against transformers' float32 forward in the fixture's logits.json
 * (same argmax at every position; last-position logits within 1e-3); the families issue 16 added
 * last (Mixtral's MoE, Gemma 2/3) also on the fast engine. Families whose row has no
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
import { createFastEngine } from '../kernels/fast/forward-engine.ts';
import type { MatmulEngine } from '../kernels/forward/index.ts';
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

const converted = new Map<Family, Promise<string>>();
/** Our f32 conversion of a family fixture, made once per run. */
function f32Gguf(family: Family): Promise<string> {
  let p = converted.get(family);
  if (!p) {
    const path = join(out, `${family}-f32.gguf`);
    p = (async () => { await runJob(convertModel({ source: await ensureFamily(family), fileType: 'f32', output: path, threads: 2, validate: false })); return path; })();
    converted.set(family, p);
  }
  return p;
}

/** The families whose facts this issue added, also run on the fast engine (wasm on the worker pool). */
const FAST: Family[] = ['mixtral', 'gemma2', 'gemma3'];
const cases = [...RUN.map((f) => ({ family: f, fast: false })), ...FAST.map((f) => ({ family: f, fast: true }))];

for (const { family, fast } of cases) {
  test(`${family}${fast ? ' (fast engine)' : ''}: our forward's logits equal transformers' (argmax at every position, last position within 1e-3)`, async (t) => {
    const ref = readFixtureJson(family, 'logits.json');
    const path = await f32Gguf(family);
    let engine: MatmulEngine | undefined;
    let result: Awaited<ReturnType<typeof ourLogits>>;
    try {
      engine = fast ? await createFastEngine({ threads: 2 }) : undefined;
      result = await ourLogits(path, ref.input_ids, engine);
    } finally {
      await engine?.close();
    }
    const { logits, nVocab } = result;
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
    t.diagnostic(`${family}${fast ? ' (fast)' : ''}: last-position max |Δlogit| ${maxAbs}`);
    assert.ok(maxAbs <= 1e-3, `${family}: last-position max |Δlogit| ${maxAbs}`);
  });
}
