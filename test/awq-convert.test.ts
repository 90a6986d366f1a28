/**
 * `convert --type awq`: a complete AWQ-GEMM folder from real (stories260K) and generated
 * (256-dim Llama and Qwen2) models — tensor names, dtypes and shapes as transformers expects,
 * config.json, copied tokenizer files, sharding, the up-front shape checks, atomic output — and
 * the round-trip error of every packed layer within the derived RTN bound. These run `--method rtn`;
 * the calibrated AWQ path is in awq-convert-calibrated.test.ts.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { SafetensorsWriter } from '../formats/safetensors/writer.ts';
import { join } from 'node:path';
import { runAwqGptqConvert } from './support/run-job.ts';
import { openQuantizedCheckpoint } from '../formats/awq-gptq/checkpoint.ts';
import { openDequantizedModel, dequantizedWeights } from '../formats/awq-gptq/dequantized-model.ts';
import { ForgeError } from '../formats/errors.ts';
import type { ValidationReport } from '../src/validate/report.ts';
import type { PipelineEvent } from '../src/pipeline/events.ts';
import { ensureSamples, SAMPLE } from '../samples/lib/index.ts';
import { checkRtnBound } from './groupwise-bound.ts';
import { roundToHalf } from '../kernels/fp16.ts';
import { inspectQuantizedFolder } from '../formats/awq-gptq/inspect.ts';
import { renderQuantizedFolderReport } from '../src/pipeline/awq-gptq/inspect-text.ts';
import { awqRtnSolver } from '../kernels/groupwise/rtn-awq.ts';
import type { GroupwiseSolver } from '../kernels/groupwise/spec.ts';
import { readAllFloat, rawHeader, tempDir } from './groupwise-fixtures.ts';

const STORIES = join(import.meta.dirname, '..', 'samples', 'stories260K');
const tmp = tempDir('awq');
after(tmp.cleanup);

/** Every packed layer of `outDir` dequantizes within the RTN bound of its source weights. */
async function assertWithinBound(srcDir: string, outDir: string): Promise<string[]> {
  const src = await readAllFloat(srcDir);
  const ckpt = await openQuantizedCheckpoint(outDir);
  const lines: string[] = [];
  try {
    for (const l of ckpt.layers) {
      const r = checkRtnBound(src.get(`${l.module}.weight`)!.data, await ckpt.readLayer(l.module));
      assert.deepEqual(r.violations, [], l.module);
      lines.push(`${l.module}: rel ${r.relFrobenius.toFixed(4)} rmse ${r.rmse.toExponential(3)} max|err|/s ${r.maxErrOverScale.toFixed(3)} clipped ${r.clipped}`);
    }
  } finally {
    await ckpt.close();
  }
  return lines;
}

test('AWQ g128 of the 256-dim Llama: names, dtypes, shapes, config, files, bound', async () => {
  const gen = await ensureSamples();
  const src = join(gen, SAMPLE.llama.f32);
  const out = join(tmp.dir, 'llama-awq');
  const events: PipelineEvent[] = [];
  const summary = await runAwqGptqConvert({ source: src, output: out, method: 'awq', algorithm: 'rtn' }, (e) => events.push(e));

  assert.deepEqual(readdirSync(out).sort(), ['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer.model', 'tokenizer_config.json']);
  for (const f of ['generation_config.json', 'tokenizer.json', 'tokenizer.model', 'tokenizer_config.json']) {
    assert.deepEqual(readFileSync(join(out, f)), readFileSync(join(src, f)), `${f} copied unchanged`);
  }
  const header = rawHeader(join(out, 'model.safetensors'));
  assert.deepEqual(header.__metadata__, { format: 'pt' });

  const srcTensors = await readAllFloat(src);
  const outTensors = await readAllFloat(out);
  const expected = new Map<string, [string, number[]]>();
  for (const [name, t] of srcTensors) {
    const m = /^(model\.layers\.\d+\.(?:self_attn\.[qkvo]_proj|mlp\.(?:gate|up|down)_proj))\.weight$/.exec(name);
    if (m) {
      const [o, i] = t.shape;
      expected.set(`${m[1]}.qweight`, ['I32', [i!, o! / 8]]);
      expected.set(`${m[1]}.qzeros`, ['I32', [i! / 128, o! / 8]]);
      expected.set(`${m[1]}.scales`, ['F16', [i! / 128, o!]]);
    } else {
      expected.set(name, ['F16', t.shape]);
    }
  }
  assert.deepEqual(new Map([...outTensors].map(([n, t]) => [n, [t.dtype, t.shape]])), expected);
  assert.ok(outTensors.has('lm_head.weight'), 'untied lm_head kept');
  assert.deepEqual(outTensors.get('model.layers.0.self_attn.q_proj.qweight')!.shape, [256, 32]);
  assert.deepEqual(outTensors.get('model.layers.1.mlp.down_proj.qzeros')!.shape, [4, 32]);
  // kept tensors are the source rounded to fp16
  const norm = srcTensors.get('model.norm.weight')!.data;
  assert.deepEqual(outTensors.get('model.norm.weight')!.data, norm.map(roundToHalf));
  const emb = srcTensors.get('model.embed_tokens.weight')!.data;
  assert.deepEqual(outTensors.get('model.embed_tokens.weight')!.data, emb.map(roundToHalf));

  const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  const srcCfg = JSON.parse(readFileSync(join(src, 'config.json'), 'utf8'));
  assert.deepEqual(cfg.quantization_config, { quant_method: 'awq', bits: 4, group_size: 128, zero_point: true, version: 'gemm', modules_to_not_convert: null });
  assert.equal(cfg.torch_dtype, 'float16');
  for (const k of Object.keys(srcCfg)) if (k !== 'torch_dtype') assert.deepEqual(cfg[k], srcCfg[k], `config key ${k} kept`);

  const report = summary.report as ValidationReport;
  assert.equal(report.tensors.length, 14);
  assert.equal(report.anomalies.length, 0);
  for (const t of report.tensors) assert.ok(t.metrics.relFrobenius > 0.01 && t.metrics.relFrobenius < 0.2, `${t.name} rel ${t.metrics.relFrobenius}`);
  assert.ok(events.some((e) => e.type === 'tensor' && e.state === 'done' && e.metrics), 'tensor events carry metrics');
  const insp = await inspectQuantizedFolder(out, { layer: 'model.layers.1.mlp.down_proj', group: 3, channels: 3 });
  assert.deepEqual([insp.method, insp.layout, insp.bits, insp.groupSize, insp.sym, insp.layers.length], ['awq', 'gemm', 4, 128, false, 14]);
  assert.deepEqual(insp.group.columns, Array.from({ length: 128 }, (_, k) => 384 + k));
  assert.ok(insp.layers.every((l) => !l.actOrder && l.tensors.length === 3));
  assert.ok(insp.kept.some((t) => t.name === 'lm_head.weight' && t.dtype === 'F16'));
  const text = renderQuantizedFolderReport(insp);
  assert.match(text, /AWQ 4-bit, group size 128, asymmetric/);
  assert.match(text, /layout: AWQ GEMM/);
  assert.match(text, /zero_point: true/);
  assert.match(text, /group 3 of model\.layers\.1\.mlp\.down_proj \(input columns 384, 385,/);
  assert.equal(text.split('\n').filter((l) => /^ +\d+ +\d+ +\d/.test(l)).length, 3);
  const lines = await assertWithinBound(src, out);
  console.log(`AWQ int4 g128, 256-dim llama:\n${lines.join('\n')}`);
});

test('AWQ of the Qwen2 sample keeps q/k/v biases in fp16 and stores no lm_head (tied)', async () => {
  const gen = await ensureSamples();
  const src = join(gen, SAMPLE.qwen2.bf16);
  const out = join(tmp.dir, 'qwen2-awq');
  await runAwqGptqConvert({ source: src, output: out, method: 'awq', algorithm: 'rtn', groupSize: 64 });
  const t = await readAllFloat(out);
  assert.equal(t.get('model.layers.0.self_attn.q_proj.bias')!.dtype, 'F16');
  assert.deepEqual(t.get('model.layers.1.self_attn.k_proj.bias')!.shape, [128]);
  assert.ok(!t.has('lm_head.weight'));
  assert.ok(!t.has('model.layers.0.self_attn.q_proj.weight'));
  assert.deepEqual(t.get('model.layers.0.self_attn.q_proj.scales')!.shape, [4, 256]);
  await assertWithinBound(src, out);
});

test('stories260K: in=64, ffn 172 — g64 is refused naming the layers (no output), --keep-unaligned packs attention only', async () => {
  const out = join(tmp.dir, 'stories-awq');
  await assert.rejects(runAwqGptqConvert({ source: STORIES, output: out, method: 'awq', algorithm: 'rtn', groupSize: 64 }), (err: unknown) => {
    assert.ok(err instanceof ForgeError && err.kind === 'unsupported');
    assert.match(err.message, /model\.layers\.0\.mlp\.gate_proj: out_features 172 is not a multiple of 8/);
    assert.match(err.message, /model\.layers\.0\.mlp\.down_proj: in_features 172 is not a multiple of group size 64/);
    assert.match(err.message, /--keep-unaligned/);
    return true;
  });
  assert.ok(!existsSync(out), 'nothing written');
  assert.deepEqual(readdirSync(tmp.dir).filter((f) => f.startsWith('.')), [], 'no temporary left');

  const warnings: string[] = [];
  const summary = await runAwqGptqConvert({ source: STORIES, output: out, method: 'awq', algorithm: 'rtn', groupSize: 64, keepUnaligned: true },
    (e) => { if (e.type === 'warning') warnings.push(e.message); });
  assert.equal(summary.packedLayers, 20);
  assert.ok(warnings.some((w) => /model\.layers\.4\.mlp\.up_proj: .*kept in fp16/.test(w)));
  assert.ok(warnings.some((w) => /vLLM Marlin/.test(w)));
  assert.ok(warnings.some((w) => /model\.layers\.0\.self_attn\.o_proj: in_features 64 \/ group size 64 = 1 groups \(odd\).*tensor-parallel/.test(w)));
  const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.deepEqual(cfg.quantization_config.modules_to_not_convert, ['mlp.down_proj', 'mlp.gate_proj', 'mlp.up_proj']);
  const t = await readAllFloat(out);
  assert.equal(t.get('model.layers.2.mlp.gate_proj.weight')!.dtype, 'F16');
  assert.ok(!t.has('lm_head.weight'));
  const lines = await assertWithinBound(STORIES, out);
  const report = summary.report as ValidationReport;
  console.log(`AWQ int4 g64, stories260K (attention only):\n${Object.entries(report.byKind).map(([k, s]) => `${k}: mean rel ${s.meanRelFrobenius.toFixed(4)} max ${s.maxRelFrobenius.toFixed(4)} snr ${s.meanSnrDb.toFixed(1)} dB`).join('\n')}\n${lines.slice(0, 4).join('\n')}`);
});

test('usage errors and refusals come before any output', async () => {
  const gen = await ensureSamples();
  const src = join(gen, SAMPLE.llama.f32);
  const kinds = async (p: Promise<unknown>) => p.then(() => 'ok', (e: ForgeError) => `${e.kind}:${e.message}`);
  assert.match(await kinds(runAwqGptqConvert({ source: src, output: join(tmp.dir, 'x1'), method: 'awq', algorithm: 'rtn', bits: 3 })), /^usage:.*4-bit only/s);
  assert.match(await kinds(runAwqGptqConvert({ source: src, output: join(tmp.dir, 'x2'), method: 'awq', algorithm: 'rtn', descAct: true })), /^usage:.*GPTQ only/s);
  assert.match(await kinds(runAwqGptqConvert({ source: src, output: join(tmp.dir, 'x3'), method: 'awq', algorithm: 'rtn', groupSize: 96 })), /^unsupported:.*in_features 256 is not a multiple of group size 96/s);
  const existing = join(tmp.dir, 'llama-awq');
  assert.ok(existsSync(existing), 'written by the first test');
  assert.match(await kinds(runAwqGptqConvert({ source: src, output: existing, method: 'awq', algorithm: 'rtn' })), /^io:.*already exists/s);
  assert.match(await kinds(runAwqGptqConvert({ source: existing, output: join(tmp.dir, 'x4'), method: 'gptq' })), /^unsupported:.*already quantized/s);
  for (const x of ['x1', 'x2', 'x3', 'x4']) assert.ok(!existsSync(join(tmp.dir, x)));
});

test('sharded output: shards plus index.json decode to the same weights as one file', async () => {
  const gen = await ensureSamples();
  const src = join(gen, SAMPLE.llama.sharded);
  const one = join(tmp.dir, 'one'), many = join(tmp.dir, 'many');
  await runAwqGptqConvert({ source: src, output: one, method: 'awq', algorithm: 'rtn', validate: false });
  const s = await runAwqGptqConvert({ source: src, output: many, method: 'awq', algorithm: 'rtn', maxShardBytes: 300_000 });
  const shards = readdirSync(many).filter((f) => f.endsWith('.safetensors')).sort();
  assert.ok(shards.length >= 3, `${shards.length} shards`);
  assert.equal(shards[0], `model-00001-of-${String(shards.length).padStart(5, '0')}.safetensors`);
  const index = JSON.parse(readFileSync(join(many, 'model.safetensors.index.json'), 'utf8'));
  assert.ok(index.weight_map['model.layers.1.mlp.down_proj.qweight']);
  for (const f of shards) assert.deepEqual(rawHeader(join(many, f)).__metadata__, { format: 'pt' });
  // a packed layer's parts stay in one shard
  assert.equal(index.weight_map['model.layers.0.mlp.up_proj.qweight'], index.weight_map['model.layers.0.mlp.up_proj.scales']);
  assert.ok((s.files as string[]).includes('model.safetensors.index.json'));
  const a = await openDequantizedModel(one), b = await openDequantizedModel(many);
  try {
    assert.deepEqual(b.tensors, a.tensors);
    for (const t of a.tensors) assert.deepEqual(await b.readRows(t.name, 0, t.shape[0]!), await a.readRows(t.name, 0, t.shape[0]!), t.name);
  } finally {
    await a.close(); await b.close();
  }
});

test('an AWQ folder as a convert source: dequantized F32 rows under the HF weight names', async () => {
  const gen = await ensureSamples();
  const src = join(gen, SAMPLE.llama.f32);
  const out = join(tmp.dir, 'llama-awq');
  const srcTensors = await readAllFloat(src);
  const seen = new Map<string, number>();
  for await (const chunk of dequantizedWeights(out, 100)) {
    assert.deepEqual(chunk.shape, srcTensors.get(chunk.name)!.shape, chunk.name);
    assert.equal(chunk.data.length, chunk.rowCount * (chunk.shape[1] ?? 1));
    seen.set(chunk.name, (seen.get(chunk.name) ?? 0) + chunk.rowCount);
    if (chunk.name.endsWith('q_proj.weight') && chunk.rowStart === 100) {
      const orig = srcTensors.get(chunk.name)!.data.subarray(100 * 256, 200 * 256);
      let se = 0, so = 0;
      for (let i = 0; i < orig.length; i++) { se += (orig[i]! - chunk.data[i]!) ** 2; so += orig[i]! ** 2; }
      assert.ok(Math.sqrt(se / so) < 0.2, 'rows 100..199 are the right rows');
    }
  }
  assert.deepEqual([...seen.keys()].sort(), [...srcTensors.keys()].sort());
  for (const [n, rows] of seen) assert.equal(rows, srcTensors.get(n)!.shape[0], n);
});

test('validation re-reads the output: a solver whose scales are not fp16-exact is caught, nothing written', async () => {
  const src = join(await ensureSamples(), SAMPLE.llama.f32);
  const out = join(tmp.dir, 'sloppy');
  const sloppy: GroupwiseSolver = {
    name: 'sloppy',
    quantize(w, rows, cols, spec, stats) {
      const m = awqRtnSolver.quantize(w, rows, cols, spec, stats);
      return { ...m, scales: m.scales.map((s) => s * (1 + 1e-4)) };
    },
  };
  await assert.rejects(runAwqGptqConvert({ source: src, output: out, method: 'awq', algorithm: 'rtn', solver: sloppy }),
    (e: ForgeError) => e.kind === 'validation' && /does not decode to the values that were quantized/.test(e.message));
  assert.ok(!existsSync(out));
  // with validation off the same output is written (the caller chose not to check)
  await runAwqGptqConvert({ source: src, output: out, method: 'awq', algorithm: 'rtn', solver: sloppy, validate: false });
  assert.ok(existsSync(join(out, 'model.safetensors')));
});

/** Copy a sample folder, rewriting its weights as F32 through `edit` (which may add tensors). */
async function modifiedCopy(src: string, name: string, edit: (t: Map<string, { shape: number[]; data: Float32Array }>) => void): Promise<string> {
  const dir = join(tmp.dir, name);
  mkdirSync(dir);
  const tensors = new Map([...(await readAllFloat(src))].map(([n, t]) => [n, { shape: t.shape, data: t.data.slice() }]));
  edit(tensors);
  const decls = [...tensors].map(([n, t]) => ({ name: n, dtype: 'F32' as const, shape: t.shape }));
  const w = await SafetensorsWriter.open(join(dir, 'model.safetensors'), decls, { format: 'pt' });
  for (const d of decls) {
    const data = tensors.get(d.name)!.data;
    await w.writeTensorData(d.name, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  await w.finish();
  for (const f of readdirSync(src)) if (!f.endsWith('.safetensors') && !f.endsWith('.index.json')) copyFileSync(join(src, f), join(dir, f));
  return dir;
}

test('tie_word_embeddings: a stored lm_head duplicate is not written', async () => {
  const src = join(await ensureSamples(), SAMPLE.qwen2.f32);
  const withHead = await modifiedCopy(src, 'qwen2-with-head', (t) => t.set('lm_head.weight', t.get('model.embed_tokens.weight')!));
  const out = join(tmp.dir, 'qwen2-tied-awq');
  const warnings: string[] = [];
  await runAwqGptqConvert({ source: withHead, output: out, method: 'awq', algorithm: 'rtn' }, (e) => { if (e.type === 'warning') warnings.push(e.code); });
  assert.ok(warnings.includes('TIED_LM_HEAD'));
  const t = await readAllFloat(out);
  assert.ok(!t.has('lm_head.weight'));
  assert.ok(t.has('model.embed_tokens.weight'));
});

test('a kept tensor beyond the fp16 range is named in a warning', async () => {
  const src = join(await ensureSamples(), SAMPLE.llama.f32);
  const big = await modifiedCopy(src, 'llama-big-norm', (t) => { t.get('model.norm.weight')!.data.set([1e5, -7e4, 65519], 0); });
  const warnings: string[] = [];
  await runAwqGptqConvert({ source: big, output: join(tmp.dir, 'big-awq'), method: 'awq', algorithm: 'rtn' }, (e) => { if (e.type === 'warning') warnings.push(e.message); });
  assert.ok(warnings.includes('model.norm.weight: 2 value(s) exceed the fp16 range (±65504) and are stored as ±inf'), warnings.join('\n'));
});
