/**
 * The headless printer shared by every command: human lines on stderr (rewritten on a TTY, plain
 * otherwise) and the result on stdout; `--jsonl` one event per line; `--json` one document, also
 * on failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runHeadless } from '../src/cli/headless.ts';
import type { JobSummary, PipelineEvent, TensorEvent } from '../src/pipeline/events.ts';
import { UnsupportedError } from '../formats/errors.ts';

async function* job(fail = false): AsyncGenerator<PipelineEvent, { output: string; outputBytes: number; nested: object }> {
  yield { type: 'phase', phase: 'plan', message: 'reading in.gguf' };
  yield { type: 'warning', code: 'FALLBACK', message: 'a.weight: Q4_K → Q5_0: ne[0]=64', tensor: 'a.weight' };
  const base: Omit<TensorEvent, 'state'> = { type: 'tensor', name: 'a.weight', index: 0, count: 2, sourceType: 'F32', targetType: 'Q5_0', shape: [64, 4], rowsTotal: 4 };
  yield { ...base, state: 'start', rowsDone: 0 };
  yield { ...base, state: 'progress', rowsDone: 2, bytes: 88 };
  yield { ...base, state: 'done', rowsDone: 4, bytes: 176, metrics: { count: 256, rmse: 0.001, maxAbs: 0.01, meanAbs: 0.0005, relFrobenius: 0.01, snrDb: 40, cosine: 0.9999, nonFinite: 0, ggml_rmse: 0.0000625 } };
  if (fail) throw new UnsupportedError('NO_KERNEL', "tensor 'b.weight': no IQ4_NL quantizer", { tensor: 'b.weight' });
  const summary = { output: 'out.gguf', outputBytes: 4096, nested: { x: 1 } };
  yield { type: 'done', summary: { ...summary, seconds: 1, tensors: 2 } as unknown as JobSummary };
  return summary;
}

const capture = (isTTY = false) => {
  const chunks: string[] = [];
  return { isTTY, write: (s: string) => (chunks.push(s), true), get text() { return chunks.join(''); } };
};

test('human mode, not a TTY: plain lines on stderr, result on stdout', async () => {
  const out = capture();
  const err = capture(false);
  const r = await runHeadless(job(), { stdout: out, stderr: err });
  assert.equal(r.outputBytes, 4096);
  assert.equal(err.text, 'plan: reading in.gguf\nwarning: a.weight: Q4_K → Q5_0: ne[0]=64\n[1/2] a.weight [64, 4] F32 → Q5_0  176 B  rmse 1.000e-3  cos 0.999900\n');
  assert.equal(out.text, 'output: out.gguf\noutputBytes: 4096 (4.00 KiB)\n');
});

test('human mode on a TTY: progress rewrites one line, finished tensors stay', async () => {
  const err = capture(true);
  await runHeadless(job(), { stdout: capture(), stderr: err });
  assert.match(err.text, /\[1\/2\] a\.weight F32 → Q5_0 50%\r\x1b\[K\[1\/2\] a\.weight \[64, 4\]/);
  assert.ok(!err.text.includes('50%\n'), 'progress lines are not left behind');
});

test('--jsonl: one event per line; --json: one document; errors as JSON too', async () => {
  const out = capture();
  const err = capture();
  await runHeadless(job(), { jsonl: true, stdout: out, stderr: err });
  const lines = out.text.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.type), ['phase', 'warning', 'tensor', 'tensor', 'tensor', 'done']);
  assert.equal(err.text, '');
  const doc = capture();
  await runHeadless(job(), { json: true, stdout: doc, stderr: capture() });
  const parsed = JSON.parse(doc.text);
  assert.equal(parsed.ok, true);
  assert.deepEqual(parsed.result.nested, { x: 1 });
  assert.equal(parsed.warnings.length, 1);
  const bad = capture();
  await assert.rejects(runHeadless(job(true), { json: true, stdout: bad, stderr: capture() }), UnsupportedError);
  const e = JSON.parse(bad.text);
  assert.deepEqual({ ok: e.ok, kind: e.error.kind, code: e.error.code }, { ok: false, kind: 'unsupported', code: 'NO_KERNEL' });
  const badl = capture();
  await assert.rejects(runHeadless(job(true), { jsonl: true, stdout: badl, stderr: capture() }));
  assert.equal(JSON.parse(badl.text.trim().split('\n').at(-1)!).type, 'error');
});
