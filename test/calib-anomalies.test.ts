// The calibration anomaly rules (src/pipeline/calib-anomalies.ts): early-layer average loss,
// outliers against the same module in the neighbouring layers, non-finite losses; thresholds as flags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ANOMALY_RULES, DEFAULT_LOSS_THRESHOLDS, findAnomalies, median, resolveThresholds } from '../src/pipeline/calib-anomalies.ts';
import { calibLayers } from './support/calib-fixture.ts';

test('smooth losses growing ×1.5 per layer (and ×4 across modules) raise nothing', () => {
  assert.deepEqual(findAnomalies(calibLayers({ nLayer: 12 })), []);
  assert.deepEqual(findAnomalies(calibLayers({ nLayer: 12, growth: 2.5 })), []);
  assert.deepEqual(findAnomalies([]), []);
});

test('the rules are data: each has a name, a summary, and the flag of its threshold', () => {
  assert.deepEqual(ANOMALY_RULES.map((r) => [r.name, r.flag]), [
    ['non-finite-loss', undefined], ['early-layer-loss', '--loss-early-threshold'], ['outlier-loss', '--loss-outlier-factor'],
  ]);
  assert.deepEqual(DEFAULT_LOSS_THRESHOLDS, { earlyThreshold: 1, earlyLayers: 3, outlierFactor: 10, outlierWindow: 2 });
  assert.deepEqual(resolveThresholds({ earlyThreshold: undefined, outlierFactor: 4 }), { ...DEFAULT_LOSS_THRESHOLDS, outlierFactor: 4 });
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
});

test('early layers (the first three) with an average loss above the threshold are flagged; later ones are not', () => {
  // Layers 0–3 all average 1.5: only 0, 1 and 2 are early.
  const set: Record<string, number> = {};
  for (let l = 0; l < 4; l++) for (const m of ['attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_gate', 'ffn_up', 'ffn_down']) set[`${l}:${m}`] = 1.5;
  const layers = calibLayers({ nLayer: 8, growth: 1, set, base: 1 });
  const early = findAnomalies(layers).filter((a) => a.rule === 'early-layer-loss');
  assert.deepEqual(early.map((a) => [a.layer, a.loss]), [[0, 1.5], [1, 1.5], [2, 1.5]]);
  assert.match(early[0]!.message, /layer 0: average loss 1\.50 is above 1 \(--loss-early-threshold\).*calibration text and the tokenizer/);
  assert.equal(early[0]!.module, undefined);
  // The threshold is the flag's value; the number of early layers is data too.
  assert.deepEqual(findAnomalies(layers, { earlyThreshold: 1.5 }).filter((a) => a.rule === 'early-layer-loss'), []);
  assert.deepEqual(findAnomalies(layers, { earlyLayers: 1 }).filter((a) => a.rule === 'early-layer-loss').map((a) => a.layer), [0]);
  // Exactly at the threshold is not above it.
  assert.deepEqual(findAnomalies(calibLayers({ nLayer: 4, growth: 1, base: 1, set: Object.fromEntries(Object.keys(set).map((k) => [k, 1])) })).filter((a) => a.rule === 'early-layer-loss'), []);
});

test('a loss more than 10× the median of the same module two layers either side is an outlier', () => {
  const at = (loss: number, factor?: number) => findAnomalies(calibLayers({ nLayer: 8, growth: 1, set: { '4:ffn_down': loss } }), { outlierFactor: factor }).filter((a) => a.rule === 'outlier-loss');
  // ffn_down is 4e-3 in every layer: 10.5× is flagged, 9.5× is not, and the factor is the flag.
  const hit = at(4.2e-2);
  assert.deepEqual(hit.map((a) => [a.layer, a.module]), [[4, 'ffn_down']]);
  assert.match(hit[0]!.message, /layer 4 ffn_down: loss 0\.0420 is 10\.5× the median 4\.00e-3 of ffn_down in layers 2…6 \(--loss-outlier-factor 10\)/);
  assert.deepEqual(at(3.8e-2), []);
  assert.deepEqual(at(3.8e-2, 5).map((a) => a.layer), [4]);
  // The neighbours of the spike are not flagged as low (only "far above" counts).
  assert.equal(at(1).length, 1);
});

test('outliers at the edges compare with the neighbours that exist; one layer alone is never an outlier', () => {
  const first = findAnomalies(calibLayers({ nLayer: 6, growth: 1, set: { '0:attn_k': 1 } })).filter((a) => a.rule === 'outlier-loss');
  assert.deepEqual(first.map((a) => [a.layer, a.module]), [[0, 'attn_k']]);
  assert.match(first[0]!.message, /in layers 0…2/);
  const last = findAnomalies(calibLayers({ nLayer: 6, growth: 1, set: { '5:attn_k': 1 } })).filter((a) => a.rule === 'outlier-loss');
  assert.match(last[0]!.message, /in layers 3…5/);
  // Fewer than two finite neighbours: no verdict.
  assert.deepEqual(findAnomalies(calibLayers({ nLayer: 2, growth: 1, set: { '1:attn_k': 1 } })).filter((a) => a.rule === 'outlier-loss'), []);
  // Neighbours whose median is 0 (exactly representable weights) flag nothing.
  const zeros: Record<string, number> = { '0:attn_q': 0, '1:attn_q': 0, '3:attn_q': 0, '4:attn_q': 0, '2:attn_q': 1e-6 };
  assert.deepEqual(findAnomalies(calibLayers({ nLayer: 5, growth: 1, set: zeros })).filter((a) => a.rule === 'outlier-loss'), []);
});

test('NaN and infinite losses are flagged (modules and AWQ scale groups), and are nobody\'s neighbour', () => {
  const layers = calibLayers({ nLayer: 6, growth: 1, method: 'awq', set: { '2:attn_v': NaN, '3:ffn_up': Infinity } });
  layers[4]!.scaleGroups![1]!.lossAfter = NaN;
  const a = findAnomalies(layers);
  assert.deepEqual(a.map((x) => [x.rule, x.layer, x.module]), [
    ['non-finite-loss', 2, 'attn_v'], ['non-finite-loss', 3, 'ffn_up'], ['non-finite-loss', 4, 'ffn_norm→ffn_gate,ffn_up'],
  ]);
  assert.match(a[0]!.message, /layer 2 attn_v: loss is NaN/);
  assert.match(a[1]!.message, /layer 3 ffn_up: loss is Infinity/);
  assert.match(a[2]!.message, /scale group ffn_norm→ffn_gate,ffn_up: loss 4\.00e-3 → NaN is not finite/);
  // A layer whose every loss is NaN has no average: no early-layer verdict, only the non-finite ones.
  const all: Record<string, number> = Object.fromEntries(['attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_gate', 'ffn_up', 'ffn_down'].map((m) => [`0:${m}`, NaN]));
  const b = findAnomalies(calibLayers({ nLayer: 3, set: all }));
  assert.deepEqual([...new Set(b.map((x) => x.rule))], ['non-finite-loss']);
  assert.equal(b.length, 7);
});

test('anomalies are ordered by layer, then rule', () => {
  const set: Record<string, number> = { '0:attn_q': 30, '1:attn_k': NaN, '5:ffn_down': 5 };
  const a = findAnomalies(calibLayers({ nLayer: 8, growth: 1, set }));
  assert.deepEqual(a.map((x) => [x.layer, x.rule]), [[0, 'early-layer-loss'], [0, 'outlier-loss'], [1, 'non-finite-loss'], [5, 'outlier-loss']]);
});
