/**
 * Eval in the product flow: `convert … --eval FILE` adds perplexity and KL figures (output against
 * source) to the summary and the human report, and a batch job with `eval: true` does the same
 * in the batch report.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXIT_CODES } from '../src/cli/exit-codes.ts';
import { runCli as run } from './support/cli.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const STORIES = path.join(ROOT, 'samples/stories260K');
const EVAL_TXT = path.join(STORIES, 'eval.txt');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gguf-forge-eval-flow-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function runCli(args: string[]) {
  const r = run(args, { cwd: dir, timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('convert --eval FILE reports PPL of output and source and the KL between them', () => {
  const r = runCli(['convert', STORIES, '-t', 'q4_0', '-o', 'q4.gguf', '--eval', EVAL_TXT, '--threads', '2', '--json']);
  assert.equal(r.code, EXIT_CODES.success, r.stderr + r.stdout);
  const doc = JSON.parse(r.stdout);
  const e = doc.result.eval;
  assert.equal(e.ctx, 512);
  assert.equal(e.chunks, 2);
  assert.ok(e.ppl > e.refPpl, `q4_0 PPL ${e.ppl} should exceed the source's ${e.refPpl}`);
  assert.ok(e.klMean > 0.01 && e.klMean < 0.2, `KL ${e.klMean}`);
  assert.ok(e.sameTop > 0.7 && e.sameTop < 1);
  assert.ok(doc.result.report, 'the weight round-trip report is still there');

  const human = runCli(['convert', STORIES, '-t', 'q8_0', '-o', 'q8.gguf', '--eval', EVAL_TXT, '--threads', '2']);
  assert.equal(human.code, EXIT_CODES.success, human.stderr);
  assert.match(human.stdout, /eval \(2 chunks of 512\): PPL [\d.]+ ± [\d.]+ vs source [\d.]+ \(ratio [\d.]+\), KL mean [\d.]+/);
  assert.match(human.stderr, /eval: 2\/2 chunks/);
});

test('a batch job with eval: true adds the figures to its report', () => {
  fs.writeFileSync(path.join(dir, 'jobs.yaml'), [
    'defaults:',
    '  output: "out/{name}-{type}.gguf"',
    `  evalText: ${EVAL_TXT}`,
    'jobs:',
    `  - source: ${STORIES}`,
    '    type: q8_0',
    '    eval: true',
    `  - source: ${STORIES}`,
    '    type: q4_0',
  ].join('\n'));
  const r = runCli(['batch', 'jobs.yaml', '--report', 'batch.json']);
  assert.equal(r.code, EXIT_CODES.success, r.stderr + r.stdout);
  const report = JSON.parse(fs.readFileSync(path.join(dir, 'batch.json'), 'utf8'));
  const [withEval, without] = report.jobs;
  assert.equal(withEval.status, 'done');
  assert.ok(withEval.eval.klMean > 0 && withEval.eval.ppl > 1, JSON.stringify(withEval));
  assert.equal(withEval.eval.text, EVAL_TXT);
  assert.equal(without.eval, undefined);
});
