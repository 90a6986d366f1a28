/** The real `gguf-forge inspect` process end to end: commander wiring, stdout/stderr, exit codes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { runCli } from './support/cli.ts';
const REF = new URL('../samples/stories260K/reference-convert-f32.gguf', import.meta.url).pathname;

function run(...args: string[]) {
  const r = runCli(['inspect', ...args]);
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('inspect FILE --json prints one JSON document and exits 0', () => {
  const r = run(REF, '--json');
  assert.equal(r.code, 0, r.err);
  const { ok, result: doc } = JSON.parse(r.out);
  assert.equal(ok, true);
  assert.equal(doc.kind, 'gguf');
  assert.equal(doc.tensors.length, 47);
  assert.equal(doc.metadata.find((k: { key: string }) => k.key === 'tokenizer.ggml.tokens').values.length, 8);
});

test('inspect --block prints the decoded block; errors go to stderr with the typed exit code', () => {
  const ok = run(REF, '--block', 'output_norm.weight:1');
  assert.equal(ok.code, 0, ok.err);
  assert.match(ok.out, /Block:\s+1 of 64, 4 bytes at file offset \d+\n\s+value\s+-?\d/);
  const bad = join(mkdtempSync(join(tmpdir(), 'forge-cli-')), 'bad.gguf');
  writeFileSync(bad, 'NOPE-not-a-gguf-file');
  const fmt = run(bad);
  assert.equal(fmt.code, 4);
  assert.match(fmt.err, /bad\.gguf.*bad magic/);
  assert.equal(fmt.out, '');
  const usage = run(REF, '--block', 'no.such.tensor');
  assert.equal(usage.code, 2);
  assert.match(usage.err, /no tensor named 'no.such.tensor'/);
});
