/**
 * The compiled CLI (`npm run build` first): `convert --type gptq` calibrates by default, prints the
 * per-layer loss report and the anomaly flags, `--json` carries `result.calibration`, `--eval`
 * scores the packed checkpoint against its source, and `--method rtn` skips calibration.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli } from './support/cli.ts';
import { tempDir } from './groupwise-fixtures.ts';

const STORIES = join(import.meta.dirname, '..', 'samples', 'stories260K');
const CALIB = join(import.meta.dirname, 'fixtures', 'stories260K-calib.txt');
const tmp = tempDir('gptq-cli');
after(tmp.cleanup);
const base = ['convert', STORIES, '--type', 'gptq', '--group-size', '32', '--keep-unaligned', '--calib', CALIB, '--calib-samples', '4', '--calib-seqlen', '128', '--threads', '1'];

test('convert --type gptq --json: calibration report with per-layer module losses and default anomaly flags; --eval figures', () => {
  const r = runCli([...base, '--damp-percent', '0.02', '-o', join(tmp.dir, 'a'), '--json', '--eval', join(STORIES, 'eval.txt')]);
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  const cal = doc.result.calibration;
  assert.equal(cal.method, 'gptq');
  assert.equal(cal.layers.length, 5);
  assert.deepEqual(cal.layers[0].modules.map((m: { module: string }) => m.module), ['attn_k', 'attn_v', 'attn_q', 'attn_output']);
  // stories260K's losses (per 128-token sequence) exceed AutoGPTQ's 1.0: the early-layer rule fires by default
  assert.ok(cal.anomalies.some((a: { rule: string; layer: number }) => a.rule === 'early-layer-loss' && a.layer === 0));
  assert.ok(doc.warnings.some((w: { code: string }) => w.code === 'CALIB_EARLY_LAYER_LOSS'));
  assert.equal(doc.result.quantization_config.damp_percent, 0.02);
  assert.ok(doc.result.eval.ppl > 1 && doc.result.eval.klMean > 0, JSON.stringify(doc.result.eval));
});

test('human output: the loss table and anomalies; --method rtn has no calibration; bad flags are usage errors', () => {
  const r = runCli([...base, '--loss-early-threshold', '1000', '-o', join(tmp.dir, 'b')]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /GPTQ calibration: 5 layers in [\d.]+ s · 4 × 128 tokens, seed 42 · /);
  assert.match(r.stdout, /\n +4 +[\d.e+-]+ +[\d.e+-]+ (attn|ffn)_\w+ +█/);
  assert.match(r.stdout, /calibration anomalies: none/);
  assert.match(r.stderr, /calibrate: layer 5\/5 done · /);
  const rtn = runCli(['convert', STORIES, '--type', 'gptq', '--method', 'rtn', '--group-size', '32', '--keep-unaligned', '-o', join(tmp.dir, 'c'), '--json']);
  assert.equal(rtn.status, 0, rtn.stderr);
  assert.equal(JSON.parse(rtn.stdout).result.calibration, undefined);
  const bad = runCli([...base, '--damp-percent', '2', '-o', join(tmp.dir, 'd')]);
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /--damp-percent must lie in \(0, 1\)/);
});
