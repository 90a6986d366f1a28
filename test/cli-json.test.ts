/**
 * Every command through the compiled CLI, success and failure, with --json and --jsonl: a program
 * reading stdout always gets `{ok, result | error, warnings}` (--json) or a stream whose last line
 * is a done or an error event (--jsonl), and the exit code matches. Failures include a missing
 * input for every command that reads one (inspect and batch too) and usage errors commander finds
 * (an unknown flag, conflicting --json/--jsonl) before any command runs.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MockHub, sampleModelFiles } from './support/mock-hub.ts';
import { ROOT, runCli, runCliAsync, type CliResult } from './support/cli.ts';

const SAMPLE = path.join(ROOT, 'samples/stories260K');
const F32 = path.join(SAMPLE, 'reference-convert-f32.gguf');
const dir = mkdtempSync(path.join(tmpdir(), 'gguf-forge-json-'));
after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(path.join(dir, 'jobs.yaml'), `jobs:\n  - source: ${SAMPLE}\n    types: [q8_0]\n`);

function assertJsonDoc(r: CliResult, ok: boolean, code: number, what: string) {
  assert.equal(r.status, code, `${what}: exit ${r.status}\n${r.stderr}`);
  const doc = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(doc).sort(), ok ? ['ok', 'result', 'warnings'] : ['error', 'ok', 'warnings'], what);
  assert.equal(doc.ok, ok, what);
  assert.ok(Array.isArray(doc.warnings), what);
  if (!ok) {
    assert.equal(typeof doc.error.code, 'string', what);
    assert.equal(typeof doc.error.kind, 'string', what);
    assert.match(r.stderr, /^gguf-forge: /m, `${what}: the human line is on stderr too`);
  }
  return doc;
}

function assertJsonlEnd(r: CliResult, last: 'done' | 'error', code: number, what: string) {
  assert.equal(r.status, code, `${what}: exit ${r.status}\n${r.stderr}`);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.at(-1).type, last, what);
  return lines;
}

const missing = path.join(dir, 'missing');
const cases: { what: string; ok: string[]; fail: string[]; failCode: number }[] = [
  { what: 'convert', ok: ['convert', SAMPLE, '--type', 'q8_0', '--dry-run'], fail: ['convert', missing, '--type', 'q8_0'], failCode: 2 },
  { what: 'quantize', ok: ['quantize', F32, path.join(dir, 'q.gguf'), '--type', 'q4_0', '--dry-run'], fail: ['quantize', missing + '.gguf', path.join(dir, 'q.gguf'), '--type', 'q4_0'], failCode: 2 },
  { what: 'inspect', ok: ['inspect', F32], fail: ['inspect', missing + '.gguf'], failCode: 2 },
  { what: 'batch', ok: ['batch', path.join(dir, 'jobs.yaml'), '--dry-run'], fail: ['batch', missing + '.yaml'], failCode: 2 },
  { what: 'pull', ok: [], fail: ['pull', 'not-a-hub-source'], failCode: 2 },
];

for (const c of cases) {
  test(`${c.what}: --json and --jsonl on success and on failure`, () => {
    if (c.ok.length) {
      const doc = assertJsonDoc(runCli([...c.ok, '--json']), true, 0, `${c.what} --json`);
      assert.ok(doc.result && typeof doc.result === 'object');
      assertJsonlEnd(runCli([...c.ok, '--jsonl']), 'done', 0, `${c.what} --jsonl`);
    }
    const err = assertJsonDoc(runCli([...c.fail, '--json']), false, c.failCode, `${c.what} failing --json`);
    if (c.failCode === 2 && c.what !== 'pull') assert.equal(err.error.code, 'NO_INPUT');
    const lines = assertJsonlEnd(runCli([...c.fail, '--jsonl']), 'error', c.failCode, `${c.what} failing --jsonl`);
    assert.equal(lines.at(-1).error.kind, 'usage');
  });
}

test('pull: --json and --jsonl on success (a mock Hub on 127.0.0.1)', async (t) => {
  const hub = await MockHub.start();
  t.after(() => hub.close());
  hub.addRepo('org/tiny', await sampleModelFiles(SAMPLE));
  const common = ['pull', 'hf:org/tiny', '--endpoint', hub.url, '--cache-dir', path.join(dir, 'hub')];
  const doc = assertJsonDoc(await runCliAsync([...common, '--json']), true, 0, 'pull --json');
  assert.match(doc.result.snapshotDir, /models--org--tiny/);
  assertJsonlEnd(await runCliAsync([...common, '--jsonl']), 'done', 0, 'pull --jsonl');
});

test('a usage error commander finds is a JSON document too, with exit code 2', () => {
  for (const args of [['convert', SAMPLE, '--type', 'q8_0', '--tpye', 'x'], ['inspect', F32, '--json', '--jsonl'], ['batch', 'x.yaml', '--concurrency', '0']]) {
    const json = args.includes('--json') ? args : [...args, '--json'];
    const doc = assertJsonDoc(runCli(json), false, 2, args.join(' '));
    assert.equal(doc.error.kind, 'usage');
  }
  const r = runCli(['quantize', F32, 'o.gguf', '--type', 'q4_00', '--jsonl']);
  assert.equal(r.status, 2);
  assert.equal(JSON.parse(r.stdout.trim()).type, 'error');
});
