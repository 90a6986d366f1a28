// `convert … --eval --report FILE`: the report is written after eval and carries the figures
// (GGUF and AWQ); when eval fails, or the job fails after its summary (--fail-on-anomaly), the
// report is still written, without figures, and the error goes on.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from './support/cli.ts';
import { withEval } from '../src/pipeline/eval-after.ts';
import { ValidationError } from '../formats/errors.ts';
import type { GroupwiseSummary, JobSummary, PipelineEvent } from '../src/pipeline/events.ts';

const STORIES = path.resolve(import.meta.dirname, '../samples/stories260K');
const EVAL_TXT = path.join(STORIES, 'eval.txt');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gguf-forge-eval-report-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const readReport = (p: string) => JSON.parse(fs.readFileSync(p, 'utf8'));

test('convert -t q8_0 --eval --report: the report has the eval figures, the same as the summary', () => {
  const report = path.join(dir, 'q8.report.json');
  const r = runCli(['convert', STORIES, '-t', 'q8_0', '-o', 'q8.gguf', '--eval', EVAL_TXT, '--report', report, '--threads', '2', '--json'], { cwd: dir });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  const doc = JSON.parse(r.stdout);
  const rep = readReport(report);
  assert.equal(rep.complete, true);
  assert.equal(rep.kind, 'convert');
  assert.ok(rep.report.byLayer, 'the validation report is still there');
  assert.deepEqual(rep.eval, doc.result.eval);
  assert.ok(rep.eval.ppl > 1 && rep.eval.klMean > 0 && rep.eval.refPpl > 1, JSON.stringify(rep.eval));
  assert.equal(rep.eval.text, EVAL_TXT);
});

test('convert --type awq --eval --report: the packed checkpoint is evaluated against its source, figures in the report', () => {
  const report = path.join(dir, 'awq.report.json');
  const r = runCli(['convert', STORIES, '-t', 'awq', '--method', 'rtn', '--group-size', '32', '--keep-unaligned', '-o', 'awq', '--eval', EVAL_TXT, '--report', report, '--threads', '2'], { cwd: dir });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /eval \(\d+ chunks of \d+\): PPL [\d.]+ ± [\d.]+ vs source 3\.57\d+ \(ratio 1\.0\d+\), KL mean 0\.0\d+/);
  const rep = readReport(report);
  assert.equal(rep.kind, 'awq');
  assert.equal(rep.complete, true);
  assert.ok(rep.eval.pplRatio > 1 && rep.eval.pplRatio < 1.2 && rep.eval.klMean > 0, JSON.stringify(rep.eval));
});

const summary: GroupwiseSummary = {
  kind: 'awq', method: 'awq', output: path.join(dir, 'no-such-output'), outputBytes: 1, seconds: 1, tensors: 1, quantization_config: {}, files: [], packedLayers: 0, keptInFp16: [],
};

async function drainAll<T>(gen: AsyncGenerator<PipelineEvent, T>): Promise<{ events: PipelineEvent[]; error?: unknown }> {
  const events: PipelineEvent[] = [];
  try {
    for (let s = await gen.next(); !s.done; s = await gen.next()) events.push(s.value);
  } catch (error) {
    return { events, error };
  }
  return { events };
}

test('eval fails: the report is written without figures, then the error', async () => {
  const reportPath = path.join(dir, 'failed-eval.json');
  async function* job(): AsyncGenerator<PipelineEvent, JobSummary> {
    yield { type: 'done', summary };
    return summary;
  }
  const { events, error } = await drainAll(withEval(job(), () => STORIES, { reportPath, textFile: EVAL_TXT }));
  assert.ok(error, 'eval of a missing output fails');
  assert.ok(!events.some((e) => e.type === 'done'), 'no done without figures');
  const rep = readReport(reportPath);
  assert.equal(rep.complete, true);
  assert.equal(rep.eval, undefined);
  assert.equal(rep.output, summary.output);
});

test('the job fails after its summary (--fail-on-anomaly): the report is written, eval does not run', async () => {
  const reportPath = path.join(dir, 'anomaly.json');
  async function* job(): AsyncGenerator<PipelineEvent, JobSummary> {
    yield { type: 'done', summary };
    throw new ValidationError('ANOMALY', '1 anomaly in the round-trip report');
  }
  const { events, error } = await drainAll(withEval(job(), () => STORIES, { reportPath }));
  assert.ok(error instanceof ValidationError);
  assert.ok(!events.some((e) => e.type === 'eval' || e.type === 'phase'), 'eval did not start');
  assert.equal(readReport(reportPath).kind, 'awq');
  // A job that fails before its summary leaves no report.
  async function* early(): AsyncGenerator<PipelineEvent, JobSummary> { throw new Error('boom'); }
  const none = path.join(dir, 'none.json');
  assert.ok((await drainAll(withEval(early(), () => STORIES, { reportPath: none }))).error);
  assert.equal(fs.existsSync(none), false);
});
