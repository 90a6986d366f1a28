/**
 * AWQ calibration (src/calibrate/awq-method.ts) on the real stories260K model, run layer by layer
 * by the in-process harness: the scale fold keeps the model's function, the groups and reports
 * are the ones of §3.2 (o after v only without GQA), and the quality criterion of issue 12 —
 * AWQ's perplexity increase over F32 is at most 0.8 × RTN's at 4-bit g32 and 3-bit g32 —
 * calibrating on test/fixtures/stories-calib.txt and evaluating on samples/stories260K/eval.txt.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { openModelWeights } from '../src/model/open-model.ts';
import { runDecoder, OutputHead } from '../src/model/forward.ts';
import { loadLayer, blockTensor } from '../src/model/layer-weights.ts';
import type { ModelWeights, WeightMatrix } from '../src/model/weights.ts';
import { createFastEngine } from '../kernels/fast/forward-engine.ts';
import type { MatmulEngine } from '../kernels/forward/index.ts';
import { loadCalibDocuments, calibrationSet, type CalibSet } from '../src/pipeline/calib-text.ts';
import { addsBos, llamaTokenizer } from '../src/pipeline/eval-plan.ts';
import { awqMethod } from '../src/calibrate/awq-method.ts';
import { BLOCK_MODULES, type BlockModule } from '../src/calibrate/layer-method.ts';
import { awqRtnSolver } from '../kernels/groupwise/rtn-awq.ts';
import type { GroupBits } from '../kernels/groupwise/spec.ts';
import { calibrateModel, quantizedModel, perplexity, withWeights, f32Matrix } from './support/calib-harness.ts';

const STORIES = 'samples/stories260K';
const EVAL_TEXT = readFileSync(`${STORIES}/eval.txt`, 'utf8');
const CALIB_FILE = 'test/fixtures/stories-calib.txt';
const ALL = new Set<BlockModule>(BLOCK_MODULES);
const KEY = { attn_q: 'wq', attn_k: 'wk', attn_v: 'wv', attn_output: 'wo', ffn_gate: 'gate', ffn_up: 'up', ffn_down: 'down' } as const;

let model: ModelWeights;
let engine: MatmulEngine;
let calib: CalibSet;
let f32Ppl: number;

before(async () => {
  model = await openModelWeights(STORIES);
  engine = await createFastEngine({ threads: 2 });
  calib = await calibrationSet(await loadCalibDocuments(CALIB_FILE), { samples: 8, seqlen: 128, seed: 42, tokenize: (t) => llamaTokenizer(model, t), bos: addsBos(model) });
  f32Ppl = await perplexity(model, EVAL_TEXT, 512, engine);
});
after(async () => {
  await engine?.close?.();
  await model?.close();
});

/** stories260K with k/v heads repeated to n_head: the same function as its GQA, but v and o have one shape (AutoAWQ's v→o condition). */
function asMultiHead(m: ModelWeights): ModelWeights {
  const hp = m.hparams, rep = hp.nHead / hp.nHeadKv, hd = hp.headDimK;
  const expand = async (name: string): Promise<WeightMatrix> => {
    const w = await m.matrix(name);
    const src = new Float32Array(w.data.slice().buffer);
    const out = new Float32Array(hp.nHead * hd * w.cols);
    for (let h = 0; h < hp.nHead; h++) out.set(src.subarray(Math.floor(h / rep) * hd * w.cols, (Math.floor(h / rep) + 1) * hd * w.cols), h * hd * w.cols);
    return f32Matrix(out, hp.nHead * hd, w.cols);
  };
  return { ...m, hparams: { ...hp, nHeadKv: hp.nHead }, matrix: (n) => (/attn_[kv]\.weight$/.test(n) ? expand(n) : m.matrix(n)) };
}

async function logits(m: ModelWeights, tokens: Int32Array, nSeq: number, nTok: number): Promise<Float32Array> {
  const gen = runDecoder(m, { tokens, nSeq, nTok }, { engine });
  let s = await gen.next();
  while (!s.done) s = await gen.next();
  const head = await OutputHead.load(m);
  const out = new Float32Array(nSeq * nTok * head.nVocab);
  for (let i = 0; i < nSeq; i++) await head.logits(s.value, i, nTok, { engine }, out.subarray(i * nTok * head.nVocab));
  return out;
}

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let d = 0, scale = 0;
  for (let i = 0; i < a.length; i++) { d = Math.max(d, Math.abs(a[i]! - b[i]!)); scale = Math.max(scale, Math.abs(a[i]!)); }
  return d / scale;
}

test('the scale fold keeps the function: scaled, unquantized weights give the F32 logits (GQA and multi-head)', async () => {
  const tokens = Int32Array.from((await llamaTokenizer(model, EVAL_TEXT)).subarray(0, 256));
  for (const [name, m, groups] of [['GQA', model, 3], ['multi-head', asMultiHead(model), 4]] as const) {
    const ref = await logits(m, tokens, 2, 128);
    if (name === 'multi-head') assert.ok(maxRelDiff(ref, await logits(model, tokens, 2, 128)) < 1e-5, 'repeated k/v heads compute the GQA function');
    const matrices = new Map<string, WeightMatrix>();
    const vectors = new Map<string, Float32Array>();
    const method = awqMethod({
      clip: false,
      onScaled(il, weights, vecs) {
        for (const [mod, data] of weights) matrices.set(blockTensor(il, `${mod}.weight`), f32Matrix(data, rowsOf(mod, m), colsOf(mod, m)));
        for (const [k, v] of vecs) vectors.set(blockTensor(il, `${k}.weight`), v);
      },
    });
    const few = calib.tokens.subarray(0, 2 * calib.nTok); // a function check: a few samples do
    const layers = await calibrateModel(m, few, 2, calib.nTok, method, { bits: 4, groupSize: 32, sym: false }, ALL, engine);
    for (const l of layers) {
      assert.deepEqual(l.report.scaleGroups!.map((g) => g.prevOp), ['attn_norm', ...(groups === 4 ? ['attn_v'] : []), 'ffn_norm', 'ffn_up'], `${name} layer ${l.layer}`);
      assert.ok(l.vectors!.has('attn_norm') && l.vectors!.has('ffn_norm'));
    }
    assert.equal(matrices.size, 7 * m.hparams.nLayer);
    const scaled = withWeights(m, matrices, vectors);
    const diff = maxRelDiff(ref, await logits(scaled, tokens, 2, 128));
    assert.ok(diff < 1e-4, `${name}: logits differ by ${diff} of their range`);
    // and the scales are not trivial: the norms really changed
    const norm0 = await m.vector(blockTensor(0, 'attn_norm.weight'));
    assert.ok(maxRelDiff(norm0, vectors.get(blockTensor(0, 'attn_norm.weight'))!) > 0.05);
  }
});

function rowsOf(mod: BlockModule, m: ModelWeights): number {
  const hp = m.hparams;
  return { attn_q: hp.nHead * hp.headDimK, attn_k: hp.nHeadKv * hp.headDimK, attn_v: hp.nHeadKv * hp.headDimV, attn_output: hp.nEmbd, ffn_gate: hp.nFf, ffn_up: hp.nFf, ffn_down: hp.nEmbd }[mod];
}
function colsOf(mod: BlockModule, m: ModelWeights): number {
  const hp = m.hparams;
  return { attn_q: hp.nEmbd, attn_k: hp.nEmbd, attn_v: hp.nEmbd, attn_output: hp.nHead * hp.headDimV, ffn_gate: hp.nEmbd, ffn_up: hp.nEmbd, ffn_down: hp.nFf }[mod];
}

for (const bits of [4, 3] as GroupBits[]) {
  test(`quality: AWQ's perplexity increase is ≤ 0.8 × RTN's at ${bits}-bit g32 (stories260K, eval.txt)`, async (t) => {
    const spec = { bits, groupSize: 32, sym: false };
    const rtnLayers = [];
    for (let il = 0; il < model.hparams.nLayer; il++) {
      const L = await loadLayer(model, il);
      rtnLayers.push({ layer: il, quantized: new Map([...ALL].map((m) => { const w = L[KEY[m]]!; return [m, awqRtnSolver.quantize(new Float32Array(w.data.slice().buffer), w.rows, w.cols, spec)] as const; })) });
    }
    const rtn = await perplexity(quantizedModel(model, rtnLayers), EVAL_TEXT, 512, engine);
    const layers = await calibrateModel(model, calib.tokens, calib.nSeq, calib.nTok, awqMethod(), spec, ALL, engine);
    const awq = await perplexity(quantizedModel(model, layers), EVAL_TEXT, 512, engine);
    const ratio = (awq - f32Ppl) / (rtn - f32Ppl);
    t.diagnostic(`${bits}-bit g32: PPL F32 ${f32Ppl.toFixed(4)}, RTN ${rtn.toFixed(4)} (+${(rtn - f32Ppl).toFixed(4)}), AWQ ${awq.toFixed(4)} (+${(awq - f32Ppl).toFixed(4)}); AWQ/RTN increase ${ratio.toFixed(3)}`);
    assert.ok(rtn > f32Ppl, 'RTN costs perplexity');
    assert.ok(ratio <= 0.8, `AWQ increase ${awq - f32Ppl} vs RTN ${rtn - f32Ppl}: ratio ${ratio}`);
    // the report: every layer has its three groups (GQA: no o group) and seven modules with finite clip losses
    for (const l of layers) {
      assert.equal(l.report.scaleGroups!.length, 3);
      for (const g of l.report.scaleGroups!) assert.ok(g.ratio >= 0 && g.ratio < 1 && Number.isFinite(g.lossBefore) && Number.isFinite(g.lossAfter));
      assert.deepEqual(l.report.modules.map((m) => m.module).sort(), [...ALL].sort());
      for (const m of l.report.modules) assert.ok(Number.isFinite(m.loss) && m.loss >= 0 && m.tensor.startsWith(`model.layers.${l.layer}.`));
    }
    const groups = layers.flatMap((l) => l.report.scaleGroups!);
    assert.ok(groups.filter((g) => g.lossAfter < g.lossBefore).length >= 0.8 * groups.length, 'the search mostly beats plain RTN on its own objective');
  });
}
