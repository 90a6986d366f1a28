/**
 * GPTQ on real layers: the Hessians of every module of stories260K and of the 256-wide generated
 * Llama, accumulated by the calibration loop's forward (add_batch on the observer's inputs), drive
 * (1) the exactness check of the blocked solver against the unblocked float64 reference
 * (test/support/gptq-reference.ts) over bits × group sizes × act-order × static groups, and
 * (2) GPTQ's layer loss ‖WX − ŴX‖² = Σ_r dᵀHd against RTN's with the same H, on every module.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openModelWeights } from '../src/model/open-model.ts';
import { createRefEngine } from '../kernels/forward/index.ts';
import { calibrateModel } from '../src/calibrate/loop.ts';
import { matrixValues } from '../src/calibrate/loop.ts';
import { accumulate, moduleOfTensor } from '../src/calibrate/gptq-method.ts';
import type { BlockModule, LayerMethod } from '../src/calibrate/layer-method.ts';
import { addBatch, createHessian, type GptqHessian } from '../kernels/groupwise/gptq-hessian.ts';
import { gptqFasterquant } from '../kernels/groupwise/gptq-solver.ts';
import { gptqRtnSolver } from '../kernels/groupwise/rtn-gptq.ts';
import { dequantizeRows } from '../kernels/groupwise/dequantize.ts';
import type { GroupBits, GroupwiseSpec } from '../kernels/groupwise/spec.ts';
import { calibrationSet, loadCalibDocuments } from '../src/pipeline/calib-text.ts';
import { addsBos, llamaTokenizer } from '../src/pipeline/eval-plan.ts';
import { ensureSamples, SAMPLE } from '../samples/lib/index.ts';
import { referenceGptq } from './support/gptq-reference.ts';

const STORIES = join(import.meta.dirname, '..', 'samples', 'stories260K');
const CALIB = join(import.meta.dirname, 'fixtures', 'stories260K-calib.txt');

interface RealModule { name: string; weight: Float32Array; rows: number; cols: number; h: GptqHessian }

/** Every module's weight and H from the original model's forward (a method that only records). */
async function realModules(dir: string, calibFile: string | undefined, samples: number, seqlen: number): Promise<RealModule[]> {
  const model = await openModelWeights(dir);
  const out: RealModule[] = [];
  try {
    const set = await calibrationSet(await loadCalibDocuments(calibFile), { samples, seqlen, seed: 42, tokenize: (t) => llamaTokenizer(model, t), bos: addsBos(model) });
    const recorder: LayerMethod = {
      name: 'gptq',
      workingBytes: () => 0,
      async quantizeLayer(ctx) {
        const hs = new Map<BlockModule, GptqHessian>();
        await ctx.forward({
          weights: ctx.weights,
          observe: (inp, range) => {
            const m = moduleOfTensor(inp.tensor);
            let h = hs.get(m);
            if (!h) hs.set(m, (h = createHessian(inp.cols)));
            addBatch(h, inp.x.subarray(0, inp.nTokens * inp.cols), range.count);
          },
        });
        for (const [m, h] of hs) {
          const w = matrixValues(ctx.weights, m);
          out.push({ name: `blk.${ctx.layer}.${m}`, weight: w.values.slice(), rows: w.rows, cols: w.cols, h });
        }
        return { next: ctx.weights, quantized: new Map(), report: { modules: [] } };
      },
    };
    const gen = calibrateModel(model, { ...set, seed: 42 }, recorder, { spec: { bits: 4, groupSize: 32, sym: true }, engine: createRefEngine(), maxMemory: 2 ** 30 });
    while (!(await gen.next()).done);
  } finally {
    await model.close();
  }
  return out;
}

/** Σ_r (w − ŵ)ᵀ H (w − ŵ) = ‖(W − Ŵ)X‖² · 2/N: the output error GPTQ minimises. */
function outputError(weight: Float32Array, deq: Float32Array, rows: number, cols: number, H: Float32Array): number {
  let total = 0;
  const d = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) d[c] = weight[r * cols + c]! - deq[r * cols + c]!;
    for (let i = 0; i < cols; i++) { let s = 0; for (let j = 0; j < cols; j++) s += H[i * cols + j]! * d[j]!; total += d[i]! * s; }
  }
  return total;
}

let stories: RealModule[] = [];
let wide: RealModule[] = [];
before(async () => {
  stories = await realModules(STORIES, CALIB, 8, 128);
  wide = await realModules(join(await ensureSamples(), SAMPLE.llama.f32), undefined, 4, 64);
});

test('real Hessians: every module of both models, symmetric, positive diagonal, nsamples = sequences', () => {
  assert.equal(stories.length, 5 * 7);
  assert.ok(wide.length >= 7 && wide.length % 7 === 0);
  for (const m of [...stories, ...wide]) {
    assert.equal(m.h.nsamples, stories.includes(m) ? 8 : 4, m.name);
    for (let i = 0; i < m.cols; i++) assert.equal(m.h.H[i * m.cols + 1], m.h.H[m.cols + i]);
  }
});

test('exactness on real layers: blocked fasterquant vs the unblocked float64 reference (≥ 99.9% codes, loss 1e-6 rel)', () => {
  let n = 0, worstMatch = 1, worstRel = 0;
  // the modules of stories260K's first and last layer, and two 256-wide ones (attn_q: 256 in; ffn_down: n_ff in)
  const picks = [...stories.filter((m) => /^blk\.(0|4)\./.test(m.name)), wide.find((m) => m.name === 'blk.0.attn_q')!, wide.find((m) => m.name === 'blk.1.ffn_down')!];
  const full = new Set([picks.find((m) => m.name === 'blk.0.attn_q'), picks.at(-2)]);
  for (const [i, m] of picks.entries()) {
    for (const bits of [2, 3, 4, 8] as GroupBits[]) for (const groupSize of [-1, 32, 64, 128]) {
      // the full cross product on one module of each width; elsewhere rotate through act-order / static
      const combos = full.has(m) ? [[false, false], [true, false], [false, true], [true, true]] : [[(bits + groupSize + i) % 2 === 0, (bits + i) % 3 === 0]];
      for (const [descAct, staticGroups] of combos) {
        if (groupSize === -1 && staticGroups) continue;
        const spec: GroupwiseSpec = { bits, groupSize, sym: (i + bits) % 2 === 0, descAct };
        const got = gptqFasterquant(m.weight, m.rows, m.cols, m.h.H, spec, { staticGroups, nsamples: m.h.nsamples });
        const ref = referenceGptq(m.weight, m.rows, m.cols, m.h.H, spec, staticGroups!);
        let same = 0;
        for (let k = 0; k < got.codes.length; k++) if (got.codes[k] === ref.codes[k]) same++;
        const match = same / got.codes.length, rel = Math.abs(got.loss - ref.loss) / ref.loss;
        const label = `${m.name} ${bits}-bit g${groupSize} act=${descAct} static=${staticGroups}`;
        assert.ok(match >= 0.999, `${label}: ${match} identical codes`);
        assert.ok(rel <= 1e-6, `${label}: loss ${got.loss} vs ${ref.loss}`);
        worstMatch = Math.min(worstMatch, match); worstRel = Math.max(worstRel, rel); n++;
      }
    }
  }
  console.log(`# ${n} real-layer configurations: worst identical-code fraction ${worstMatch}, worst loss rel diff ${worstRel.toExponential(2)}`);
});

test('GPTQ layer loss ≤ RTN with the same H on every module of stories260K and the 256-wide Llama', () => {
  const lines: number[] = [];
  for (const m of [...stories, ...wide]) {
    for (const spec of [{ bits: 4, groupSize: 32, sym: true }, { bits: 3, groupSize: 32, sym: true }, { bits: 4, groupSize: -1, sym: false }] as GroupwiseSpec[]) {
      const g = outputError(m.weight, gptqFasterquant(m.weight, m.rows, m.cols, m.h.H, spec).dequantized, m.rows, m.cols, m.h.H);
      const r = outputError(m.weight, dequantizeRows(gptqRtnSolver().quantize(m.weight, m.rows, m.cols, spec)), m.rows, m.cols, m.h.H);
      assert.ok(g <= r, `${m.name} ${spec.bits}-bit g${spec.groupSize}: GPTQ ${g} > RTN ${r}`);
      lines.push(g / r);
    }
  }
  const ratios = lines.sort((a, b) => a - b);
  console.log(`# GPTQ/RTN layer loss over ${ratios.length} module×configs: median ${ratios[ratios.length >> 1]!.toFixed(3)}, worst ${ratios.at(-1)!.toFixed(3)}`);
});

test('H on the matmul engine (float32 product, as torch) equals add_batch within float32 rounding', async () => {
  const m = wide.find((x) => x.name === 'blk.0.attn_q')!;
  const cols = 96, tokens = 80;
  let s = 7;
  const x = Float32Array.from({ length: 2 * tokens * cols }, () => { s = (s * 1103515245 + 12345) >>> 0; return (s / 2 ** 32 - 0.5) * 3; });
  const a = createHessian(cols), b = createHessian(cols);
  for (const [i, batch] of [[0, 1], [1, 3]] as const) {
    addBatch(a, x.subarray(i * tokens * cols, (i + 1) * tokens * cols), batch);
    await accumulate(createRefEngine(), b, x.subarray(i * tokens * cols, (i + 1) * tokens * cols), tokens, cols, batch);
  }
  assert.equal(b.nsamples, 4);
  let worst = 0;
  for (let i = 0; i < cols * cols; i++) worst = Math.max(worst, Math.abs(a.H[i]! - b.H[i]!) / Math.sqrt(a.H[Math.floor(i / cols) * (cols + 1)]! * a.H[(i % cols) * (cols + 1)]!));
  assert.ok(worst < 1e-5, `worst ${worst}`);
  for (let i = 0; i < cols; i++) for (let j = 0; j < cols; j++) assert.equal(b.H[i * cols + j], b.H[j * cols + i]);
  assert.ok(m.h.nsamples > 0);
});
