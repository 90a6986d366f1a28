/**
 * `convert --type awq` with the calibrated method (the default; `--method rtn` is the fast path):
 * the written folder keeps every guarantee of the RTN path — the same tensor names, dtypes and
 * shapes, the same quantization_config, read-back validation — while the norms hold AWQ's
 * rescaled values and the calibration report lists each group's ratio and loss and each module's
 * clip loss. On stories260K the written checkpoint (attention packed, g32) scores a lower perplexity
 * on eval.txt than the RTN one. (The CLI test runs the compiled CLI: `npm run build` first.)
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runAwqGptqConvert } from './support/run-job.ts';
import { readAllFloat, rawHeader, tempDir } from './groupwise-fixtures.ts';
import { ensureSamples, SAMPLE } from '../samples/lib/index.ts';
import { openModelWeights } from '../src/model/open-model.ts';
import { createFastEngine } from '../kernels/fast/forward-engine.ts';
import type { AwqGptqOptions } from '../src/pipeline/awq-gptq.ts';
import { perplexity } from './support/calib-harness.ts';
import { runCli } from './support/cli.ts';
import { roundToHalf } from '../kernels/fp16.ts';

const ROOT = join(import.meta.dirname, '..');
const STORIES = join(ROOT, 'samples', 'stories260K');
const CALIB = join(ROOT, 'test', 'fixtures', 'stories-calib.txt');
const tmp = tempDir('awq-calibrated');
after(tmp.cleanup);

/** The safetensors header without offsets: names, dtypes, shapes. */
function layout(dir: string): Record<string, { dtype: string; shape: number[] }> {
  const h = rawHeader(join(dir, 'model.safetensors')) as Record<string, { dtype: string; shape: number[] }>;
  return Object.fromEntries(Object.entries(h).filter(([k]) => k !== '__metadata__').map(([k, v]) => [k, { dtype: v.dtype, shape: v.shape }]));
}

async function both(name: string, base: AwqGptqOptions) {
  const rtnDir = join(tmp.dir, `${name}-rtn`), awqDir = join(tmp.dir, `${name}-awq`);
  const rtn = await runAwqGptqConvert({ ...base, output: rtnDir, algorithm: 'rtn' });
  const awq = await runAwqGptqConvert({ ...base, output: awqDir, algorithm: 'awq', calibration: { file: CALIB, samples: 4, seqlen: 64, threads: 2, ...base.calibration } });
  return { rtnDir, awqDir, rtn, awq };
}

test('256-dim Llama, g128: the RTN layout and config, validated read-back, rescaled norms, the report of §3.2', async () => {
  const src = join(await ensureSamples(), SAMPLE.llama.f32);
  const { rtnDir, awqDir, rtn, awq } = await both('llama', { source: src, output: '', method: 'awq' });
  assert.deepEqual(layout(awqDir), layout(rtnDir));
  assert.deepEqual(readdirSync(awqDir).sort(), readdirSync(rtnDir).sort());
  const cfg = (d: string) => JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'));
  assert.deepEqual(cfg(awqDir), cfg(rtnDir));
  assert.deepEqual(awq.quantization_config, rtn.quantization_config);
  assert.ok(awq.report && awq.report.tensors.length === 14, 'validation re-read every packed layer (fingerprints match what was quantized)');
  assert.equal(awq.packedLayers, 14);
  // the round-trip report measures each layer against the scaled, clipped weights its codes approximate
  // (reference §6), in HF row order (q/k un-permuted): the error of quantization alone, about RTN's
  for (const [i, t] of awq.report!.tensors.entries()) {
    assert.equal(t.name, rtn.report!.tensors[i]!.name);
    assert.ok(t.metrics!.relFrobenius < 1.25 * rtn.report!.tensors[i]!.metrics!.relFrobenius, `${t.name}: ${t.metrics!.relFrobenius} vs RTN ${rtn.report!.tensors[i]!.metrics!.relFrobenius}`);
  }

  const s = await readAllFloat(src), a = await readAllFloat(awqDir), r = await readAllFloat(rtnDir);
  for (const il of [0, 1]) for (const norm of ['input_layernorm', 'post_attention_layernorm']) {
    const n = `model.layers.${il}.${norm}.weight`;
    assert.equal(a.get(n)!.dtype, 'F16');
    assert.deepEqual(r.get(n)!.data, Float32Array.from(s.get(n)!.data, roundToHalf), `${n}: RTN copies the norm`);
    assert.ok(a.get(n)!.data.some((v, i) => Math.abs(v - s.get(n)!.data[i]!) > 1e-2 * Math.abs(s.get(n)!.data[i]!)), `${n}: AWQ rescaled it (ln / s)`);
  }
  for (const k of ['model.embed_tokens.weight', 'model.norm.weight', 'lm_head.weight']) assert.deepEqual(a.get(k)!.data, r.get(k)!.data, `${k} is untouched`);

  const c = awq.calibration!;
  assert.equal(c.method, 'awq');
  assert.deepEqual([c.calib.samples, c.calib.seqlen], [4, 64]);
  assert.equal(c.layers.length, 2);
  for (const l of c.layers) {
    // GQA (4 heads, 2 kv heads): no v→o group, as AutoAWQ skips it when v_proj and o_proj differ in shape
    assert.deepEqual(l.scaleGroups!.map((g) => [g.prevOp, g.modules]), [['attn_norm', ['attn_q', 'attn_k', 'attn_v']], ['ffn_norm', ['ffn_gate', 'ffn_up']], ['ffn_up', ['ffn_down']]]);
    for (const g of l.scaleGroups!) assert.ok(g.ratio >= 0 && g.ratio < 1 && g.lossAfter <= g.lossBefore * 1.5 && Number.isFinite(g.lossBefore));
    assert.deepEqual(l.modules.map((m) => m.module).sort(), ['attn_k', 'attn_output', 'attn_q', 'attn_v', 'ffn_down', 'ffn_gate', 'ffn_up']);
    for (const m of l.modules) assert.ok(Number.isFinite(m.loss) && m.tensor === `model.layers.${l.layer}.${{ attn_q: 'self_attn.q_proj', attn_k: 'self_attn.k_proj', attn_v: 'self_attn.v_proj', attn_output: 'self_attn.o_proj', ffn_gate: 'mlp.gate_proj', ffn_up: 'mlp.up_proj', ffn_down: 'mlp.down_proj' }[m.module]}`);
  }
});

test('stories260K, g32 with --keep-unaligned: only attention is packed, so only attn_norm is rescaled; the AWQ folder beats the RTN folder on eval.txt', async () => {
  const { rtnDir, awqDir, rtn, awq } = await both('stories', { source: STORIES, output: '', method: 'awq', groupSize: 32, keepUnaligned: true, calibration: { samples: 8, seqlen: 128 } });
  assert.deepEqual(layout(awqDir), layout(rtnDir));
  assert.deepEqual(awq.keptInFp16, rtn.keptInFp16);
  assert.deepEqual(awq.quantization_config, rtn.quantization_config);
  const s = await readAllFloat(STORIES), a = await readAllFloat(awqDir);
  for (let il = 0; il < 5; il++) {
    const n = (x: string) => `model.layers.${il}.${x}.weight`;
    // the ffn linears stay fp16 copies of the source, so their norm must not be rescaled
    assert.deepEqual(a.get(n('post_attention_layernorm'))!.data, (await readAllFloat(rtnDir)).get(n('post_attention_layernorm'))!.data);
    assert.ok(a.get(n('input_layernorm'))!.data.some((v, i) => Math.abs(v - s.get(n('input_layernorm'))!.data[i]!) > 1e-2));
    assert.deepEqual(awq.calibration!.layers[il]!.scaleGroups!.map((g) => g.prevOp), ['attn_norm']);
  }
  const engine = await createFastEngine({ threads: 2 });
  try {
    const text = readFileSync(join(STORIES, 'eval.txt'), 'utf8');
    const ppl = async (dir: string) => { const m = await openModelWeights(dir); try { return await perplexity(m, text, 512, engine); } finally { await m.close(); } };
    const [f32, pr, pa] = [await ppl(STORIES), await ppl(rtnDir), await ppl(awqDir)];
    console.log(`# stories260K AWQ-GEMM g32 (attention packed): PPL F32 ${f32.toFixed(4)}, RTN folder ${pr.toFixed(4)}, AWQ folder ${pa.toFixed(4)}`);
    assert.ok(pr > f32 && pa < pr, `AWQ ${pa} vs RTN ${pr} (F32 ${f32})`);
  } finally {
    await engine.close();
  }
});

test('the CLI: convert --type awq calibrates by default and prints each group\'s ratio and losses', () => {
  const out = join(tmp.dir, 'cli-awq');
  const r = runCli(['convert', STORIES, '--type', 'awq', '--group-size', '32', '--keep-unaligned', '--calib', CALIB, '--calib-samples', '4', '--calib-seqlen', '64', '--threads', '2', '-o', out], { cwd: ROOT });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /AWQ calibration: 5 layers in [\d.]+ s · 4 × 64 tokens, seed 42 · /);
  assert.match(r.stdout, /AWQ scale groups: chosen ratio, loss before → after/);
  assert.match(r.stdout, /\n +1 attn_norm→attn_q,attn_k,attn_v ratio [01]\.\d\d +\S+ → \S+ \([−+]?[\d.]+%\)/);
  assert.equal(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).quantization_config.quant_method, 'awq');
});
