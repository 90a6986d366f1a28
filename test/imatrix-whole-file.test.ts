/**
 * `quantize --imatrix` writes, the whole file, what `llama_model_quantize` writes when given the
 * same importance matrix and the `quantize.imatrix.*` kv overrides llama-quantize passes (so the
 * tensor types, the policy's imatrix rules, the per-column weights and the keys are all checked),
 * on the 256-wide synthetic Llamas; the outputs load in llama.cpp and generate. The IQ mixes'
 * tensor types equal llama.cpp's for every IQ file type (that part needs no IQ kernel of ours).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLlamaCpp, llamaCppUnavailable, type LlamaCpp } from './support/llama-cpp.ts';
import { loadModel, greedyCompletion } from './support/llama-run.ts';
import { STORIES_F32, writeLlamaGguf } from './quantize-fixtures.ts';
import { quantizeGguf } from '../src/pipeline/quantize.ts';
import { planQuantize } from '../src/pipeline/plan-quantize.ts';
import { imatrixJob } from '../src/pipeline/imatrix.ts';
import { createQuantizer, type Quantizer } from '../kernels/fast/index.ts';
import { createRefEngine } from '../kernels/forward/index.ts';
import { fileTypeByName } from '../kernels/file-types.ts';
import { GgmlTypeId as T } from '../kernels/ggml-types.ts';
import { quantKernel } from '../kernels/quant-table.ts';
import { planTensorTypes } from '../src/policy/type-policy.ts';
import { modelFactsFromMetadata } from '../src/policy/model-facts.ts';
import { readGguf, getKv } from '../formats/gguf/reader.ts';
import { readImatrix } from '../formats/imatrix/read-imatrix.ts';
import { quantWeights } from '../formats/imatrix/imatrix.ts';
import { IMATRIX_KV } from '../src/pipeline/imatrix-apply.ts';
import type { PipelineEvent, QuantizeSummary } from '../src/pipeline/events.ts';

const EVAL_TXT = join(import.meta.dirname, '../samples/stories260K/eval.txt');
const dir = mkdtempSync(join(tmpdir(), 'gguf-forge-imatrix-file-'));
let ll: LlamaCpp;
let quantizer: Quantizer;
const models: Record<string, { gguf: string; imatrix: string }> = {};

async function drain<T>(gen: AsyncGenerator<PipelineEvent, T>, events: PipelineEvent[] = []): Promise<T> {
  for (let s = await gen.next(); ; s = await gen.next()) {
    if (s.done) return s.value;
    events.push(s.value);
  }
}

before(async () => {
  if (llamaCppUnavailable) return;
  ll = await loadLlamaCpp();
  quantizer = await createQuantizer({ threads: 2 });
  const engine = createRefEngine();
  // 8 layers, so the first-eighth rules (ffn_down with an imatrix) have a layer to act on.
  for (const [name, dims] of [
    ['256-wide untied gqa2', { nLayer: 8, nEmbd: 256, nFf: 256, nHead: 4, nHeadKv: 2, tied: false, seed: 7 }],
    ['256-wide tied gqa4', { nLayer: 8, nEmbd: 256, nFf: 256, nHead: 4, nHeadKv: 1, tied: true, seed: 8 }],
  ] as const) {
    const gguf = join(dir, `${name.replace(/ /g, '-')}.gguf`);
    await writeLlamaGguf(gguf, dims);
    const imatrix = join(dir, `${name.replace(/ /g, '-')}.imatrix.gguf`);
    await drain(imatrixJob({ model: gguf, output: imatrix, calibFile: EVAL_TXT, ctx: 64, chunks: 6, engine }));
    models[name] = { gguf, imatrix };
  }
});
after(async () => {
  await quantizer?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** What llama-quantize --imatrix FILE hands llama_model_quantize. */
async function llamaImatrixParams(file: string) {
  const m = await readImatrix(file);
  return {
    imatrix: new Map([...m.entries].map(([n, e]) => [n, quantWeights(m, e)])),
    kvOverrides: [
      { key: IMATRIX_KV.file, str: file },
      ...(m.datasets.length ? [{ key: IMATRIX_KV.dataset, str: m.datasets[0]! }] : []),
      { key: IMATRIX_KV.entries, int: m.entries.size },
      ...(m.chunkCount > 0 ? [{ key: IMATRIX_KV.chunks, int: m.chunkCount }] : []),
    ],
  };
}

async function whereDiffers(a: Buffer, b: Buffer, path: string): Promise<string> {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const f = await readGguf(path);
  if (i < f.dataOffset) return `first difference at byte ${i}, in the header (sizes ${a.length} vs ${b.length})`;
  const t = f.tensors.find((x) => i >= f.dataOffset + x.offset && i < f.dataOffset + x.offset + x.nbytes);
  return `first difference at byte ${i}, tensor ${t?.name ?? '(padding)'} (sizes ${a.length} vs ${b.length})`;
}

// The IQ types whose imatrix kernels are in the quant table run too (iq3_XXS needs IQ3_XXS and
// IQ3_S and IQ2_S for its mix; iq2_XS needs IQ2_XS): they join this list when those kernels land.
const hasKernels = (types: number[]) => types.every((t) => quantKernel(t)?.quantizeImatrix);
const IQ_WITH_KERNELS = [
  ...(hasKernels([T.IQ3_XXS, T.IQ3_S, T.IQ2_S]) ? ['iq3_XXS'] : []),
  ...(hasKernels([T.IQ2_XS]) ? ['iq2_XS'] : []),
];
// (The machine is shared: each model gets the types that exercise its rules.)
const FILE_TYPES: Record<string, string[]> = {
  '256-wide untied gqa2': ['q4_K_M', 'q3_K_M', 'q2_K', 'iq4_XS', ...IQ_WITH_KERNELS],
  '256-wide tied gqa4': ['q4_0', 'iq4_NL', 'q2_K', ...IQ_WITH_KERNELS],
};

for (const name of ['256-wide untied gqa2', '256-wide tied gqa4']) {
  test(`with an imatrix, the whole file equals llama_model_quantize's: ${name} (${FILE_TYPES[name]!.join(', ')})`, { skip: llamaCppUnavailable ?? false }, async () => {
    const { gguf, imatrix } = models[name]!;
    const params = await llamaImatrixParams(imatrix);
    for (const ft of FILE_TYPES[name]!) {
      const ours = join(dir, `ours-${ft}.gguf`);
      const theirs = join(dir, `theirs-${ft}.gguf`);
      const events: PipelineEvent[] = [];
      const summary = await drain(quantizeGguf({ input: gguf, output: ours, fileType: ft, imatrix, threads: 2, quantizer, force: true }), events) as QuantizeSummary;
      assert.equal(ll.modelQuantize(gguf, theirs, fileTypeByName(ft)!.id, { nthread: 2, ...params }), 0, `llama.cpp failed on ${name} ${ft}`);
      const a = readFileSync(ours);
      const b = readFileSync(theirs);
      if (!a.equals(b)) assert.fail(`${name} → ${ft}: ${await whereDiffers(a, b, theirs)}`);
      // Every quantized tensor but token_embd and output.weight (collected only with --process-output) had an entry.
      const quantized = (n: string) => summary.plan.some((r) => r.name === n && r.sourceType !== r.targetType);
      assert.deepEqual(summary.imatrix?.missing, ['output.weight', 'token_embd.weight'].filter(quantized).sort());
      assert.equal(events.filter((e) => e.type === 'warning' && e.code === 'IMATRIX_MISSING').length, summary.imatrix!.missing.length);
    }
  });
}

test('MoE: per-expert importance weights of 3-D tensors, the whole file equals llama_model_quantize\'s (q4_K_M, iq4_XS)', { skip: llamaCppUnavailable ?? false }, async () => {
  const gguf = join(dir, 'moe-256.gguf');
  await writeLlamaGguf(gguf, { nLayer: 2, nEmbd: 256, nFf: 256, nHead: 4, nHeadKv: 2, tied: false, nExpert: 4, seed: 9 });
  const imatrix = join(dir, 'moe-256.imatrix.gguf');
  await drain(imatrixJob({ model: gguf, output: imatrix, calibFile: EVAL_TXT, ctx: 64, chunks: 4, engine: createRefEngine() }));
  const m = await readImatrix(imatrix);
  assert.equal(m.entries.get('blk.0.ffn_down_exps.weight')!.counts.length, 4);
  const params = await llamaImatrixParams(imatrix);
  for (const ft of ['q4_K_M', 'iq4_XS']) {
    const ours = join(dir, `moe-ours-${ft}.gguf`);
    const theirs = join(dir, `moe-theirs-${ft}.gguf`);
    // Small chunks, so the write stage's steps would cross experts if it did not cut at them.
    await drain(quantizeGguf({ input: gguf, output: ours, fileType: ft, imatrix, threads: 2, quantizer, force: true, chunkBytes: 96 * 1024 }));
    assert.equal(ll.modelQuantize(gguf, theirs, fileTypeByName(ft)!.id, { nthread: 2, ...params }), 0);
    const a = readFileSync(ours);
    const b = readFileSync(theirs);
    if (!a.equals(b)) assert.fail(`MoE → ${ft}: ${await whereDiffers(a, b, theirs)}`);
  }
});

test('the imatrix rules change the plan exactly where llama.cpp does: q4_0 ffn_down in the first eighth → Q4_1, iq4_XS keeps it', { skip: llamaCppUnavailable ?? false }, async () => {
  const { gguf, imatrix } = models['256-wide untied gqa2']!;
  const typeOf = async (ft: string, withImatrix: boolean) => {
    const plan = await drain(planQuantize({ input: gguf, output: join(dir, 'x.gguf'), fileType: ft, ...(withImatrix ? { imatrix } : {}) }));
    return plan.tensors.find((t) => t.name === 'blk.0.ffn_down.weight')!.targetType;
  };
  assert.equal(await typeOf('q4_0', false), T.Q4_0);
  assert.equal(await typeOf('q4_0', true), T.Q4_1);
  assert.equal(await typeOf('iq4_XS', false), T.Q5_K);
  assert.equal(await typeOf('iq4_XS', true), T.IQ4_XS);
});

const IQ_MIXES: Record<string, string[]> = {
  // One mix per distinct branch of the rules (iq2_XS and iq1_S follow iq2_XXS's, iq2_S iq2_M's,
  // iq3_S iq3_XS's; llama.cpp's IQ1/IQ2 quantizers are slow on a shared machine).
  '256-wide untied gqa2': ['iq2_XXS', 'iq2_M', 'iq1_M', 'iq3_XXS', 'iq3_XS', 'iq3_M', 'q2_K_S'],
  // GQA 4 flips the attn_v rules (and ties the output to token_embd).
  '256-wide tied gqa4': ['iq2_XS', 'iq3_XXS', 'q2_K_S'],
};

for (const name of ['256-wide untied gqa2', '256-wide tied gqa4']) {
  test(`IQ mixes: with an imatrix our plan's tensor types equal llama.cpp's output: ${name}`, { skip: llamaCppUnavailable ?? false }, async () => {
    const { gguf, imatrix } = models[name]!;
    const params = await llamaImatrixParams(imatrix);
    for (const ft of IQ_MIXES[name]!) {
      const theirs = join(dir, `theirs-${ft}.gguf`);
      assert.equal(ll.modelQuantize(gguf, theirs, fileTypeByName(ft)!.id, { nthread: 2, ...params }), 0, `llama.cpp failed on ${ft}`);
      const want = (await readGguf(theirs)).tensors.map((t) => `${t.name}:${t.type}`);
      // The policy alone (planQuantize would refuse the IQ types we have no kernel for yet).
      const f = await readGguf(gguf);
      const plan = planTensorTypes(f.tensors, modelFactsFromMetadata((k) => getKv(f, k)?.value), fileTypeByName(ft)!, { hasImatrix: true });
      assert.deepEqual(plan.map((t) => `${t.name}:${t.targetType}`), want, `${name} ${ft}`);
    }
  });
}

test('outputs quantized with an imatrix load in llama.cpp and generate', { skip: llamaCppUnavailable ?? false }, async () => {
  // stories260K (a trained model, so greedy text is text) and a 256-wide synthetic one.
  const stories = join(dir, 'stories.imatrix.gguf');
  await drain(imatrixJob({ model: STORIES_F32, output: stories, calibFile: EVAL_TXT, ctx: 64, engine: createRefEngine() }));
  for (const [gguf, imatrix, trained, types] of [[STORIES_F32, stories, true, ['q4_K_M', 'q2_K', 'iq4_XS']], [models['256-wide untied gqa2']!.gguf, models['256-wide untied gqa2']!.imatrix, false, ['q2_K']]] as const) {
    for (const ft of types) {
      const out = join(dir, `gen-${ft}.gguf`);
      await drain(quantizeGguf({ input: gguf, output: out, fileType: ft, imatrix, threads: 2, quantizer, force: true }));
      assert.equal(getKv(await readGguf(out), IMATRIX_KV.file)?.value, imatrix);
      const model = await loadModel(out);
      try {
        const text = await greedyCompletion(model, 'Once upon a time', 8);
        if (trained) assert.ok(text.trim().length > 0, `${ft}: llama.cpp generated nothing`);
      } finally {
        await model.dispose();
      }
    }
  }
});
