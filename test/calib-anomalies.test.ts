/** The calibration anomaly rules: early-layer loss, outliers against neighbours, non-finite; unset thresholds keep the defaults. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findAnomalies, DEFAULT_THRESHOLDS } from '../src/calibrate/anomalies.ts';
import type { LayerCalibration } from '../src/pipeline/calib-report.ts';

const layer = (i: number, losses: Record<string, number>): LayerCalibration =>
  ({ layer: i, seconds: 0, modules: Object.entries(losses).map(([module, loss]) => ({ module, tensor: `model.layers.${i}.${module}`, loss })) });

test('early layers 1–3 above the threshold, one outlier against its neighbours, a NaN; undefined thresholds fall back to the defaults', () => {
  const layers = [
    layer(0, { attn_q: 0.2, ffn_down: 0.1 }),
    layer(1, { attn_q: 2.5, ffn_down: 0.2 }), // early, average 1.35 > 1
    layer(2, { attn_q: 0.3, ffn_down: NaN }),
    layer(3, { attn_q: 0.4, ffn_down: 0.2 }), // not early (4th layer)
    layer(4, { attn_q: 9, ffn_down: 0.3 }), // 9 > 10 × median(0.3, 0.4, 0.5)? no: 9 > 4 → outlier
    layer(5, { attn_q: 0.5, ffn_down: 0.3 }),
  ];
  const a = findAnomalies(layers, { earlyLoss: undefined, outlierFactor: undefined });
  assert.deepEqual(DEFAULT_THRESHOLDS, { earlyLayers: 3, earlyLoss: 1, outlierFactor: 10 });
  assert.deepEqual(a.map((x) => [x.rule, x.layer, x.module ?? null]), [
    ['early-layer-loss', 1, null],
    ['non-finite-loss', 2, 'ffn_down'],
    ['outlier-loss', 4, 'attn_q'],
  ]);
  assert.match(a[0]!.message, /layer 2: average loss 1\.350 > 1 in an early layer/);
  // each threshold is a flag
  assert.deepEqual(findAnomalies(layers, { earlyLoss: 2, outlierFactor: 100 }).map((x) => x.rule), ['non-finite-loss']);
});
