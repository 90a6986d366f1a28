/**
 * `convert --type gptq` with calibration (--method gptq, the default): model quality on
 * stories260K against RTN, the output keeps every layout guarantee of the RTN path, and bad input
 * (calibration text too short or malformed, activations that overflow, a memory budget below one
 * layer, Ctrl-C) fails with a typed error and leaves nothing behind.
 *
 * stories260K is calibrated on test/fixtures/stories260K-calib.txt (text sampled from the model,
 * make-stories-calib.ts) and scored on samples/stories260K/eval.txt, never the calibration text.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runAwqGptqConvert, runJob } from './support/run-job.ts';
import { evalModel } from '../src/pipeline/eval.ts';
import { createRefEngine } from '../kernels/forward/index.ts';
import { ForgeError } from '../formats/errors.ts';
import type { AwqGptqOptions } from '../src/pipeline/awq-gptq.ts';
import type { PipelineEvent } from '../src/pipeline/events.ts';
import { formatCalibration } from '../src/pipeline/calib-report-text.ts';
import { ensureSamples, SAMPLE } from '../samples/lib/index.ts';
import { readAllFloat, tempDir } from './groupwise-fixtures.ts';

const STORIES = join(import.meta.dirname, '..', 'samples', 'stories260K');
const EVAL_TEXT = join(STORIES, 'eval.txt');
const CALIB = join(import.meta.dirname, 'fixtures', 'stories260K-calib.txt');
const tmp = tempDir('gptq-calib');
after(tmp.cleanup);
const engine = createRefEngine();
let n = 0;

const calibrated = (o: Partial<AwqGptqOptions> & { source: string }, calib: AwqGptqOptions['calibration'] = {}) =>
  ({ output: join(tmp.dir, `out-${n++}`), method: 'gptq' as const, algorithm: 'gptq' as const, keepUnaligned: true, ...o, calibration: { file: CALIB, samples: 16, seqlen: 128, engine, ...calib } });

async function ppl(model: string): Promise<number> {
  const { result } = await runJob(evalModel({ model, textFile: EVAL_TEXT, ctx: 128, engine }));
  return result.model.perplexity.ppl;
}

test('model quality on stories260K: GPTQ perplexity increase ≤ 0.6 × RTN at 4-bit g32 and 3-bit g32', async () => {
  const base = await ppl(STORIES);
  const lines = [`F32 ${base.toFixed(4)}`];
  for (const bits of [4, 3]) {
    const rtn = await runAwqGptqConvert({ source: STORIES, output: join(tmp.dir, `rtn-${bits}`), method: 'gptq', bits, groupSize: 32, keepUnaligned: true });
    const gptq = await runAwqGptqConvert(calibrated({ source: STORIES, bits, groupSize: 32 }));
    const [r, g] = [await ppl(rtn.output), await ppl(gptq.output)];
    lines.push(`${bits}-bit g32: RTN ${r.toFixed(4)} (+${(r - base).toFixed(4)}), GPTQ ${g.toFixed(4)} (+${(g - base).toFixed(4)}), ratio ${((g - base) / (r - base)).toFixed(3)}`);
    assert.ok(r > base, `RTN ${bits}-bit must lose something (${r} vs ${base})`);
    assert.ok(g - base <= 0.6 * (r - base), lines.at(-1));
  }
  console.log(`# stories260K perplexity on eval.txt (ctx 128): ${lines.join('; ')}`);
});

test('output compatibility: the calibrated 256-wide Llama keeps the RTN layout, validates on read-back, records the solver parameters', async () => {
  const src = join(await ensureSamples(), SAMPLE.llama.f32);
  const events: PipelineEvent[] = [];
  const o = calibrated({ source: src, groupSize: 64, descAct: true }, { file: undefined, samples: 4, seqlen: 64, dampPercent: 0.05, staticGroups: true, trueSequential: false });
  const s = await runAwqGptqConvert(o, (e) => events.push(e));
  const rtn = await runAwqGptqConvert({ source: src, output: join(tmp.dir, 'rtn-256'), method: 'gptq', groupSize: 64, descAct: true });
  assert.deepEqual(readdirSync(s.output).sort(), readdirSync(rtn.output).sort());
  const [a, b] = [await readAllFloat(s.output), await readAllFloat(rtn.output)];
  const decls = (m: typeof a) => [...m].map(([k, v]) => [k, v.dtype, v.shape] as const).sort((x, y) => (x[0] < y[0] ? -1 : 1));
  assert.deepEqual(decls(a), decls(b)); // the same tensors, dtypes and shapes (written layer by layer, so in another file order)
  const qc = JSON.parse(readFileSync(join(s.output, 'config.json'), 'utf8')).quantization_config;
  assert.deepEqual(qc, JSON.parse(readFileSync(join(s.output, 'quantize_config.json'), 'utf8')));
  assert.deepEqual([qc.damp_percent, qc.desc_act, qc.true_sequential, qc.static_groups, qc.group_size, qc.sym], [0.05, true, false, true, 64, true]);
  // read-back validation ran and every packed layer decoded to what was quantized; q/k rows are back
  // in HF order (a wrong un-permutation would make their round-trip error ~√2 instead of RTN-sized)
  assert.ok(s.report && s.report.tensors.length === 14, 'validation report');
  for (const t of s.report!.tensors) assert.ok(t.metrics.cosine > 0.95, `${t.name}: cosine ${t.metrics.cosine}`);
  const cal = s.calibration!;
  assert.equal(cal.method, 'gptq');
  assert.deepEqual(cal.layers.map((l) => l.modules.length), [7, 7]);
  assert.ok(cal.layers.every((l) => l.modules.every((m) => Number.isFinite(m.loss) && m.loss > 0 && m.tensor.startsWith(`model.layers.${l.layer}.`))));
  assert.deepEqual(cal.calib, { source: cal.calib.source, samples: 4, seqlen: 64, seed: 42 });
  const progress = events.filter((e) => e.type === 'calibrate');
  assert.ok(progress.some((e) => e.type === 'calibrate' && e.state === 'layer' && e.layer === 1 && e.nLayer === 2));
  assert.ok(progress.some((e) => e.type === 'calibrate' && e.state === 'module' && e.samples === 4 && e.samplesDone !== undefined));
  const text = formatCalibration(cal, 200);
  assert.match(text, /GPTQ calibration: 2 layers in/);
  assert.match(text, / k +v +q +o +up +gate +down/);
});

test('anomaly rules: an early-layer threshold flags layers 1–3, reported as warnings and in the summary', async () => {
  const events: PipelineEvent[] = [];
  const s = await runAwqGptqConvert(calibrated({ source: STORIES, bits: 2, groupSize: 32, lossThresholds: { earlyThreshold: 1e-9, outlierFactor: 1e9 } }, { samples: 4 }), (e) => events.push(e));
  const early = s.calibration!.anomalies.filter((a) => a.rule === 'early-layer-loss');
  assert.deepEqual(early.map((a) => a.layer), [0, 1, 2]);
  assert.ok(events.some((e) => e.type === 'warning' && e.code === 'CALIB_EARLY_LAYER_LOSS'));
});

async function rejects(o: AwqGptqOptions, code: string, re: RegExp): Promise<void> {
  await assert.rejects(runAwqGptqConvert(o), (e: unknown) => {
    assert.ok(e instanceof ForgeError, String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, re);
    return true;
  });
  assert.ok(!existsSync(o.output), 'nothing left at the output');
  assert.deepEqual(readdirSync(tmp.dir).filter((f) => f.includes('.tmp') || f.startsWith('.')), [], 'no temporary folder left');
}

test('bad input: calibration text too short, wrong format, NaN activations naming the layer, --max-memory below one layer, cancel', async () => {
  const short = join(tmp.dir, 'short.txt');
  writeFileSync(short, 'Once upon a time.');
  await rejects(calibrated({ source: STORIES, groupSize: 32 }, { file: short }), 'CALIB_TOO_SHORT', /fewer than one sample/);
  const bad = join(tmp.dir, 'bad.jsonl');
  writeFileSync(bad, '{"content": "no text field"}\n');
  await rejects(calibrated({ source: STORIES, groupSize: 32 }, { file: bad }), 'CALIB_FORMAT', /line 1 has no string "text" field/);
  await rejects(calibrated({ source: STORIES, groupSize: 32 }, { maxMemory: 64 * 1024 }), 'CALIB_MEMORY', /too small for calibration/);

  // a finite but huge ffn_norm in layer 2 overflows float32 in its feed-forward
  const dir = join(tmp.dir, 'overflow');
  cpSync(STORIES, dir, { recursive: true });
  const file = join(dir, 'model.safetensors');
  const bytes = readFileSync(file);
  const hlen = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + hlen).toString('utf8'));
  const t = header['model.layers.2.post_attention_layernorm.weight'];
  const start = 8 + hlen + t.data_offsets[0];
  for (let i = 0; i < 64; i++) bytes.writeFloatLE(3e38, start + 4 * i);
  writeFileSync(file, bytes);
  await rejects(calibrated({ source: dir, groupSize: 32 }), 'CALIB_NON_FINITE', /layer 2\b/);

  const ac = new AbortController();
  const o = calibrated({ source: STORIES, groupSize: 32, signal: ac.signal });
  await assert.rejects(runAwqGptqConvert(o, (e) => { if (e.type === 'calibrate' && e.layer === 1) ac.abort(); }), (e: unknown) => e instanceof ForgeError && e.code === 'CANCELLED');
  assert.ok(!existsSync(o.output));
  copyFileSync(CALIB, join(tmp.dir, 'calib-copy.txt')); // the fixture itself is untouched
});
