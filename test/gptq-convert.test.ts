/**
 * `convert --type gptq`: GPTQ-v1 folders (sym default, asym with the v1-safe zero, act-order,
 * 2/3/8-bit) from generated and real models — layout, g_idx, qzeros words, both config files —
 * and the round-trip error within the derived RTN bound; `inspect` on the result.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runAwqGptqConvert } from './support/run-job.ts';
import { openQuantizedCheckpoint } from '../formats/awq-gptq/checkpoint.ts';
import { inspectQuantizedFolder } from '../formats/awq-gptq/inspect.ts';
import { renderQuantizedFolderReport } from '../src/pipeline/awq-gptq/inspect-text.ts';
import type { ValidationReport } from '../src/validate/report.ts';
import { ensureSamples, SAMPLE } from '../samples/lib/index.ts';
import { checkRtnBound } from './groupwise-bound.ts';
import { gptqRtnSolver } from '../kernels/groupwise/rtn-gptq.ts';
import type { GroupwiseSolver } from '../kernels/groupwise/spec.ts';
import type { ForgeError } from '../formats/errors.ts';
import { readAllFloat, rawHeader, tempDir } from './groupwise-fixtures.ts';

const STORIES = join(import.meta.dirname, '..', 'samples', 'stories260K');
const tmp = tempDir('gptq');
after(tmp.cleanup);

async function boundLines(srcDir: string, outDir: string): Promise<string[]> {
  const src = await readAllFloat(srcDir);
  const ckpt = await openQuantizedCheckpoint(outDir);
  const lines: string[] = [];
  try {
    for (const l of ckpt.layers) {
      const m = await ckpt.readLayer(l.module);
      assert.ok(m.zeros.every((z) => z >= 1), `${l.module}: no zero point of 0 in v1`);
      const r = checkRtnBound(src.get(`${l.module}.weight`)!.data, m);
      assert.deepEqual(r.violations, [], l.module);
      lines.push(`${l.module}: rel ${r.relFrobenius.toFixed(4)} max|err|/s ${r.maxErrOverScale.toFixed(3)} clipped ${r.clipped}`);
    }
  } finally {
    await ckpt.close();
  }
  return lines;
}

test('GPTQ default (4-bit g128 sym) of the 256-dim Llama: layout, g_idx, qzeros 0x77777777, both config files', async () => {
  const src = join(await ensureSamples(), SAMPLE.llama.bf16);
  const out = join(tmp.dir, 'llama-gptq');
  const summary = await runAwqGptqConvert({ source: src, output: out, method: 'gptq' });
  assert.deepEqual(readdirSync(out).sort(), ['config.json', 'generation_config.json', 'model.safetensors', 'quantize_config.json', 'tokenizer.json', 'tokenizer.model', 'tokenizer_config.json']);
  assert.deepEqual(rawHeader(join(out, 'model.safetensors')).__metadata__, { format: 'pt' });
  const t = await readAllFloat(out);
  const q = (n: string) => t.get(`model.layers.0.${n}`)!;
  assert.deepEqual([q('self_attn.q_proj.qweight').dtype, q('self_attn.q_proj.qweight').shape], ['I32', [32, 256]]);
  assert.deepEqual([q('self_attn.k_proj.qzeros').dtype, q('self_attn.k_proj.qzeros').shape], ['I32', [2, 16]]);
  assert.deepEqual([q('self_attn.k_proj.scales').dtype, q('self_attn.k_proj.scales').shape], ['F16', [2, 128]]);
  assert.deepEqual([q('mlp.down_proj.qweight').dtype, q('mlp.down_proj.qweight').shape], ['I32', [64, 256]]);
  assert.deepEqual([q('mlp.down_proj.g_idx').dtype, q('mlp.down_proj.g_idx').shape], ['I32', [512]]);
  assert.deepEqual([...q('mlp.down_proj.g_idx').data], Array.from({ length: 512 }, (_, k) => Math.floor(k / 128)));
  for (const [n, v] of t) if (n.endsWith('.qzeros')) assert.ok(v.ints!.every((w) => (w >>> 0) === 0x77777777), `${n}: symmetric 4-bit v1 words`);
  assert.equal(t.get('lm_head.weight')!.dtype, 'F16');

  const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  const qc = {
    bits: 4, group_size: 128, damp_percent: 0.01, desc_act: false, static_groups: false, sym: true, true_sequential: true,
    model_name_or_path: null, model_file_base_name: 'model', quant_method: 'gptq', checkpoint_format: 'gptq',
  };
  assert.deepEqual(cfg.quantization_config, qc);
  assert.equal(cfg.torch_dtype, 'float16');
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'quantize_config.json'), 'utf8')), qc);
  assert.equal((summary.report as ValidationReport).tensors.length, 14);
  console.log(`GPTQ int4 g128 sym, 256-dim llama (bf16 source):\n${(await boundLines(src, out)).slice(0, 7).join('\n')}`);
});

test('GPTQ 3-bit g64 asym act-order: scattered g_idx, v1-safe zeros, bound; inspect shows it', async () => {
  const src = join(await ensureSamples(), SAMPLE.mistral.f32);
  const out = join(tmp.dir, 'mistral-gptq3');
  await runAwqGptqConvert({ source: src, output: out, method: 'gptq', bits: 3, groupSize: 64, sym: false, descAct: true });
  const t = await readAllFloat(out);
  assert.deepEqual(t.get('model.layers.0.self_attn.q_proj.qweight')!.shape, [24, 256]);
  assert.deepEqual(t.get('model.layers.0.self_attn.k_proj.qzeros')!.shape, [4, 6]);
  const g = [...t.get('model.layers.1.mlp.up_proj.g_idx')!.data];
  assert.ok(g.some((v, k) => k > 0 && v < g[k - 1]!), 'act-order g_idx is scattered');
  assert.deepEqual([0, 1, 2, 3].map((j) => g.filter((v) => v === j).length), [64, 64, 64, 64]);
  const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.equal(cfg.quantization_config.desc_act, true);
  assert.equal(cfg.quantization_config.sym, false);
  assert.equal(cfg.quantization_config.bits, 3);
  const lines = await boundLines(src, out);
  console.log(`GPTQ int3 g64 asym act-order, 256-dim mistral:\n${lines.slice(0, 3).join('\n')}`);

  const report = await inspectQuantizedFolder(out, { layer: 'layers.1.mlp.up_proj', group: 2, channels: 5 });
  assert.equal(report.method, 'gptq');
  assert.equal(report.bits, 3);
  assert.equal(report.layers.length, 14);
  assert.ok(report.layers.every((l) => l.actOrder && l.layout === 'gptq'));
  assert.deepEqual(report.group.columns, g.flatMap((v, k) => (v === 2 ? [k] : [])));
  const ckpt = await openQuantizedCheckpoint(out);
  const m = await ckpt.readLayer('model.layers.1.mlp.up_proj');
  await ckpt.close();
  assert.deepEqual(report.group.channels, [0, 1, 2, 3, 4].map((n) => ({ channel: n, zero: m.zeros[2 * 512 + n], scale: m.scales[2 * 512 + n] })));
  const text = renderQuantizedFolderReport(report);
  assert.match(text, /GPTQ 3-bit, group size 64, asymmetric, act-order/);
  assert.match(text, /layout: GPTQ v1 \(zeros stored as z-1\)/);
  assert.match(text, /model\.layers\.1\.mlp\.up_proj {2}in 256 out 512 {2}3-bit g64 \(4 groups\) {2}act-order g_idx/);
  assert.match(text, /group 2 of model\.layers\.1\.mlp\.up_proj/);
  assert.match(text, /model\.norm\.weight {2}F16\[256\]/);
});

test('GPTQ 2-bit and 8-bit; stories260K at 8-bit per-channel packs down_proj (in 172) too', async () => {
  const src = join(await ensureSamples(), SAMPLE.qwen2.f16);
  const out2 = join(tmp.dir, 'qwen2-gptq2');
  await runAwqGptqConvert({ source: src, output: out2, method: 'gptq', bits: 2, groupSize: 32 });
  const t2 = await readAllFloat(out2);
  assert.deepEqual(t2.get('model.layers.0.self_attn.q_proj.qweight')!.shape, [16, 256]);
  assert.ok(t2.get('model.layers.0.self_attn.q_proj.qzeros')!.ints!.every((w) => (w >>> 0) === 0x55555555));
  assert.equal(t2.get('model.layers.0.self_attn.v_proj.bias')!.dtype, 'F16');
  await boundLines(src, out2);

  const out8 = join(tmp.dir, 'stories-gptq8');
  const s = await runAwqGptqConvert({ source: STORIES, output: out8, method: 'gptq', bits: 8, groupSize: -1, keepUnaligned: true });
  assert.equal(s.packedLayers, 25);
  const t8 = await readAllFloat(out8);
  assert.deepEqual(t8.get('model.layers.0.mlp.down_proj.qweight')!.shape, [43, 64]);
  assert.deepEqual(t8.get('model.layers.0.mlp.down_proj.scales')!.shape, [1, 64]);
  assert.ok(t8.get('model.layers.0.mlp.down_proj.qzeros')!.ints!.every((w) => (w >>> 0) === 0x7f7f7f7f));
  assert.equal(t8.get('model.layers.0.mlp.up_proj.weight')!.dtype, 'F16');
  const cfg = JSON.parse(readFileSync(join(out8, 'config.json'), 'utf8')).quantization_config;
  assert.deepEqual(cfg.modules_in_block_to_quantize, [['self_attn.k_proj', 'self_attn.v_proj', 'self_attn.q_proj'], ['self_attn.o_proj'], ['mlp.down_proj']]);
  assert.ok(cfg.dynamic['-:^model\\.layers\\.3\\.mlp\\.gate_proj$']);
  const lines = await boundLines(STORIES, out8);
  const report = s.report as ValidationReport;
  console.log(`GPTQ int8 per-channel sym, stories260K:\n${Object.entries(report.byKind).map(([k, v]) => `${k}: mean rel ${v.meanRelFrobenius.toFixed(5)} snr ${v.meanSnrDb.toFixed(1)} dB`).join('\n')}\n${lines.slice(0, 2).join('\n')}`);

  const out4 = join(tmp.dir, 'stories-gptq4');
  const s4 = await runAwqGptqConvert({ source: STORIES, output: out4, method: 'gptq', groupSize: 32, keepUnaligned: true });
  assert.equal(s4.packedLayers, 20);
  const r4 = s4.report as ValidationReport;
  console.log(`GPTQ int4 g32 sym, stories260K (attention only):\n${Object.entries(r4.byKind).map(([k, v]) => `${k}: mean rel ${v.meanRelFrobenius.toFixed(4)} snr ${v.meanSnrDb.toFixed(1)} dB`).join('\n')}`);
  await boundLines(STORIES, out4);
});

test('--report writes the summary JSON; --fail-on-anomaly fails (exit kind validation) but keeps the output', async () => {
  let calls = 0;
  const breaksFirstLayer: GroupwiseSolver = {
    name: 'breaks-first-layer',
    quantize(w, rows, cols, spec, stats) {
      const m = gptqRtnSolver().quantize(w, rows, cols, spec, stats);
      if (calls++ === 0) m.codes.fill(1 << (spec.bits - 1)); // every weight decodes to 0
      return m;
    },
  };
  const out = join(tmp.dir, 'anomalous');
  const reportPath = join(tmp.dir, 'anomalous-report.json');
  await assert.rejects(runAwqGptqConvert({ source: STORIES, output: out, method: 'gptq', bits: 8, groupSize: -1, keepUnaligned: true, solver: breaksFirstLayer, reportPath, failOnAnomaly: true }),
    (e: ForgeError) => e.kind === 'validation' && /anomal.*output kept at/.test(e.message) && /model\.layers\.0\.mlp\.down_proj/.test(e.message));
  assert.ok(readdirSync(out).includes('model.safetensors'), 'output kept for inspection');
  const doc = JSON.parse(readFileSync(reportPath, 'utf8'));
  assert.equal(doc.complete, true);
  assert.equal(doc.method, 'gptq');
  assert.ok(doc.report.anomalies.some((a: { code: string; tensor: string }) => a.code === 'outlier-error' && a.tensor === 'model.layers.0.mlp.down_proj.weight'));
  assert.equal(doc.report.worst[0].name, 'model.layers.0.mlp.down_proj.weight');
  assert.ok(Math.abs(doc.report.worst[0].relFrobenius - 1) < 1e-12, 'a layer decoding to zeros has relative error 1');
});
