import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildReport, type TensorResult } from '../src/validate/report.ts';
import { tensorPlace } from '../src/validate/tensor-kind.ts';

const m = (rel: number, nonFinite = 0) => ({ count: 1000, rmse: rel, maxAbs: rel, meanAbs: rel, relFrobenius: rel, snrDb: -20 * Math.log10(rel), cosine: 1 - rel * rel / 2, nonFinite, ggml_rmse: rel / 1000 });
const layers = (kind: string, type: string, rels: number[]): TensorResult[] => rels.map((r, i) => ({ name: `blk.${i}.${kind}.weight`, type, metrics: m(r) }));

test('tensorPlace reads GGUF and HF names', () => {
  assert.deepEqual(tensorPlace('blk.12.ffn_down.weight'), { layer: 12, kind: 'ffn_down' });
  assert.deepEqual(tensorPlace('model.layers.3.self_attn.q_proj.weight'), { layer: 3, kind: 'attn_q' });
  assert.deepEqual(tensorPlace('model.layers.3.mlp.down_proj.qweight'), { layer: 3, kind: 'ffn_down' });
  assert.deepEqual(tensorPlace('token_embd.weight'), { layer: null, kind: 'token_embd' });
});

test('aggregates per layer and kind, ranks the worst tensors', () => {
  const r = buildReport([...layers('attn_q', 'Q5_K', [0.02, 0.02, 0.021, 0.019]), ...layers('ffn_up', 'Q5_K', [0.03, 0.03, 0.031, 0.029])]);
  assert.equal(r.byLayer['0']!.tensors, 2);
  assert.ok(Math.abs(r.byKind['attn_q']!.meanRelFrobenius - 0.02) < 1e-9);
  assert.equal(r.worst[0]!.name, 'blk.2.ffn_up.weight');
  assert.deepEqual(r.anomalies, []);
});

test('flags non-finite values, outliers within a type, and high early-layer error', () => {
  const results = [
    ...layers('attn_q', 'Q4_0', [0.3, 0.05, 0.05, 0.05, 0.05, 0.05]),
    ...layers('ffn_up', 'Q4_0', [0.05, 0.05, 0.05, 0.05, 0.05, 0.5]),
    { name: 'output.weight', type: 'Q6_K', metrics: m(0.01, 3) },
  ];
  const codes = buildReport(results).anomalies.map((a) => `${a.code}:${a.tensor}`);
  assert.ok(codes.includes('non-finite:output.weight'));
  assert.ok(codes.includes('outlier-error:blk.5.ffn_up.weight'));
  assert.ok(codes.includes('early-layer-error:blk.0.attn_q.weight'));
  assert.ok(!codes.some((c) => c.endsWith('blk.1.attn_q.weight')));
});

test('errors of different types are not compared (q5_K_M mixes Q5_K and Q6_K)', () => {
  const r = buildReport([...layers('ffn_down', 'Q5_K', [0.03, 0.03, 0.03]), ...layers('ffn_down', 'Q6_K', [0.004, 0.004, 0.004])]);
  assert.deepEqual(r.anomalies, []);
});
