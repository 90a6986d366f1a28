/**
 * What a new user meets first, through the compiled CLI: usage errors that say what is wrong
 * (an unknown option is not a "missing --type", a typo'd type gets a suggestion), `help <command>`,
 * one `gguf-forge:` prefix, exit codes that match the table (a missing input is 2, not the disk
 * code 7; a GGUF given to convert points at quantize), "already exists" before any writing line,
 * a missing output folder created, and a Hub that accepts connections but never answers reported
 * with a clear line after the timeout instead of silence.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readGguf } from '../formats/gguf/reader.ts';
import { ROOT, runCli, runCliAsync } from './support/cli.ts';

const SAMPLE = path.join(ROOT, 'samples/stories260K');
const F32 = path.join(SAMPLE, 'reference-convert-f32.gguf');
const dir = mkdtempSync(path.join(tmpdir(), 'gguf-forge-errors-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('usage errors: unknown option, missing source, missing --type, a typo in the type, one prefix', () => {
  const typo = runCli(['convert', SAMPLE, '--typo', 'q4_0']);
  assert.equal(typo.status, 2);
  assert.match(typo.stderr, /^gguf-forge: unknown option '--typo'/);
  assert.doesNotMatch(typo.stderr, /required option/);
  const bare = runCli(['convert']);
  assert.equal(bare.status, 2);
  assert.match(bare.stderr, /^gguf-forge: missing required argument 'source'/);
  const noType = runCli(['convert', SAMPLE]);
  assert.equal(noType.status, 2);
  assert.match(noType.stderr, /^gguf-forge: missing --type: one of f32, f16, bf16, q4_0/);
  const q400 = runCli(['convert', SAMPLE, '--type', 'q4_00']);
  assert.equal(q400.status, 2);
  assert.match(q400.stderr, /unknown or unsupported type 'q4_00' \(did you mean q4_0\?\)/);
  assert.match(runCli(['quantize', F32, 'x.gguf', '--type', 'Q5_K_MM']).stderr, /did you mean q5_K_M\?/);
  for (const r of [typo, bare, noType, q400]) assert.doesNotMatch(r.stderr, /^error:/m, 'commander prefix replaced');
});

test('gguf-forge help convert prints the command help; help with no command the program help', () => {
  const r = runCli(['help', 'convert']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Usage: gguf-forge convert \[options\] <source>/);
  assert.match(r.stdout, /--dry-run/);
  assert.match(runCli(['help']).stdout, /^Usage: gguf-forge \[options\] \[command\]/);
});

test('exit codes and order: GGUF to convert suggests quantize (2); missing input is 2; output exists before any writing line', () => {
  const gguf = runCli(['convert', F32, '--type', 'q8_0']);
  assert.equal(gguf.status, 2, gguf.stderr);
  assert.match(gguf.stderr, /is a GGUF file; convert takes a Hugging Face model folder\. To requantize a GGUF: gguf-forge quantize .*reference-convert-f32\.gguf reference-convert-Q8_0\.gguf --type q8_0/);
  for (const args of [['convert', path.join(dir, 'nope'), '--type', 'q8_0'], ['quantize', path.join(dir, 'nope.gguf'), path.join(dir, 'o.gguf'), '--type', 'q8_0'], ['inspect', path.join(dir, 'nope.gguf')], ['batch', path.join(dir, 'nope.yaml')]]) {
    const r = runCli(args);
    assert.equal(r.status, 2, `${args[0]}: ${r.stderr}`);
    assert.match(r.stderr, /not found: .*nope/);
  }
  const existing = path.join(dir, 'exists.gguf');
  writeFileSync(existing, 'x');
  for (const args of [['convert', SAMPLE, '--type', 'q8_0', '-o', existing], ['quantize', F32, existing, '--type', 'q8_0']]) {
    const r = runCli(args);
    assert.equal(r.status, 7, r.stderr);
    assert.match(r.stderr, /^gguf-forge: .*exists\.gguf already exists \(use --force to overwrite\)\n$/, 'the only line, before any "write:" line');
  }
});

test('-o into a folder that does not exist yet creates it', async () => {
  const out = path.join(dir, 'new', 'deeper', 'x.gguf');
  const r = runCli(['convert', SAMPLE, '--type', 'q8_0', '-o', out, '--no-validate', '--threads', '2']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal((await readGguf(out)).tensors.length, 47);
  assert.doesNotMatch(r.stderr, /\.tmp/);
});

test('a Hub that accepts connections and never answers: "connecting to …", then a clear timeout line, exit 5', async (t) => {
  const sockets: Socket[] = [];
  const server = createServer((s) => void sockets.push(s)); // accepts, reads nothing back, never answers
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const { port } = server.address() as { port: number };
  const endpoint = `http://127.0.0.1:${port}`;
  const env = { HF_ENDPOINT: endpoint, HF_HUB_CACHE: path.join(dir, 'hub'), HF_HUB_ETAG_TIMEOUT: '1', HF_TOKEN: '' };
  for (const args of [['convert', 'hf:org/model', '--type', 'q8_0'], ['pull', 'hf:org/model']]) {
    const r = await runCliAsync(args, { env, cwd: dir });
    assert.equal(r.status, 5, r.stderr);
    assert.match(r.stderr, new RegExp(`resolve: connecting to ${endpoint} …\\n`));
    assert.match(r.stderr, new RegExp(`gguf-forge: org/model@main: no answer from ${endpoint} within 1 s; check the network`));
    assert.ok(r.seconds < 10, `failed after ${r.seconds.toFixed(1)} s`);
  }
  assert.ok(sockets.length >= 2, 'the server was reached');
  assert.equal(existsSync(path.join(dir, 'model-Q8_0.gguf')), false);
});
