/**
 * The CLI end to end (a real child process): `gguf-forge convert SRC --type awq|gptq …` writes
 * the folder and prints the JSON summary with the validation report; shape refusals and bad flags
 * map to their exit codes with a message naming the layer.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureSamples, SAMPLE } from '../samples/lib/index.ts';
import { tempDir } from './groupwise-fixtures.ts';
import { runCli } from './support/cli.ts';

const ROOT = join(import.meta.dirname, '..');
const STORIES = join(ROOT, 'samples', 'stories260K');
const tmp = tempDir('awq-cli');
after(tmp.cleanup);

function cli(args: string[]) {
  const r = runCli(args, { cwd: ROOT });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('convert --type awq writes the folder and prints the report as JSON', async () => {
  const src = join(await ensureSamples(), SAMPLE.llama.f16);
  const out = join(tmp.dir, 'awq');
  const r = cli(['convert', src, '--type', 'awq', '--method', 'rtn', '--group-size', '64', '-o', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  const summary = doc.summary ?? doc.result ?? doc;
  assert.equal(JSON.stringify(summary).includes('"relFrobenius"'), true, 'report included');
  const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.deepEqual(cfg.quantization_config, { quant_method: 'awq', bits: 4, group_size: 64, zero_point: true, version: 'gemm', modules_to_not_convert: null });
});

test('convert --type gptq: per-channel 8-bit, act-order flags reach the config', async () => {
  const src = join(await ensureSamples(), SAMPLE.qwen2.bf16);
  const out = join(tmp.dir, 'gptq');
  const r = cli(['convert', src, '--type', 'gptq', '--method', 'rtn', '--bits', '8', '--group-size=-1', '--asym', '--desc-act', '-o', out]);
  assert.equal(r.code, 0, r.stderr);
  const q = JSON.parse(readFileSync(join(out, 'quantize_config.json'), 'utf8'));
  assert.deepEqual([q.bits, q.group_size, q.sym, q.desc_act, q.checkpoint_format], [8, -1, false, true, 'gptq']);
});

test('refusals: stories260K ffn shapes (exit 6, names the layer), AWQ 3-bit (exit 2); nothing written', () => {
  const out = join(tmp.dir, 'refused');
  const shapes = cli(['convert', STORIES, '--type', 'gptq', '--method', 'rtn', '--group-size', '32', '-o', out]);
  assert.equal(shapes.code, 6, shapes.stderr);
  assert.match(shapes.stderr, /model\.layers\.0\.mlp\.gate_proj: out_features 172 is not a multiple of 32/);
  const bits = cli(['convert', STORIES, '--type', 'awq', '--bits', '3', '-o', out]);
  assert.equal(bits.code, 2, bits.stderr);
  assert.match(bits.stderr, /4-bit only/);
  assert.ok(!existsSync(out));
});
