import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { main } from '../src/cli/main.ts';
import { MockHub, sampleModelFiles, tempDir } from './support/mock-hub.ts';

const SAMPLE = path.join(import.meta.dirname, '..', 'samples', 'stories260K');
const SECRET = 'hf_SeCrEt_token_0123456789';

/** Runs the CLI in-process, capturing everything written to stdout and stderr. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const w1 = process.stdout.write;
  const w2 = process.stderr.write;
  process.stdout.write = ((s: string | Uint8Array) => (out.push(String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => (err.push(String(s)), true)) as typeof process.stderr.write;
  let code: number;
  try {
    code = await main(args);
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
  }
  process.exitCode = undefined;
  return { code, stdout: out.join(''), stderr: err.join('') };
}

function allText(dir: string): string {
  // Everything the pull left on disk (files and link targets), to prove the token is not stored.
  const parts: string[] = [];
  for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const p = path.join(e.parentPath, e.name);
    if (e.isSymbolicLink()) parts.push(fs.readlinkSync(p));
    else if (e.isFile()) parts.push(fs.readFileSync(p, 'latin1'));
    parts.push(p);
  }
  return parts.join('\n');
}

test('gguf-forge pull: downloads with --token, prints the snapshot, and never prints the token', async (t) => {
  const hub = await MockHub.start();
  t.after(() => hub.close());
  const files = await sampleModelFiles(SAMPLE);
  const { commit } = hub.addRepo('gated/tiny', files, { gatedToken: SECRET, refs: ['main', 'dev'] });
  const cacheDir = tempDir('hub-cli-');
  const common = ['--endpoint', hub.url, '--cache-dir', cacheDir];

  const human = await cli(['pull', 'hf:gated/tiny@dev', '--token', SECRET, ...common]);
  assert.equal(human.code, 0, human.stderr);
  const snap = path.join(cacheDir, 'models--gated--tiny', 'snapshots', commit);
  assert.match(human.stdout, new RegExp(`snapshot: ${snap.replace(/[.]/g, '\\.')}`));
  assert.match(human.stdout, new RegExp(`commit: ${commit}`));
  assert.match(human.stderr, /download model\.safetensors: done/);
  assert.ok(fs.readFileSync(path.join(snap, 'model.safetensors')).equals(files['model.safetensors']));
  assert.equal(fs.readFileSync(path.join(cacheDir, 'models--gated--tiny', 'refs', 'dev'), 'utf8'), commit);

  // The token from the environment, JSON lines and a JSON report.
  process.env.HF_TOKEN = SECRET;
  let jsonl, json;
  try {
    jsonl = await cli(['pull', 'hf:gated/tiny', '--jsonl', '--include', '*.gguf', ...common]);
    json = await cli(['pull', 'hf:gated/tiny', '--json', ...common]);
  } finally {
    delete process.env.HF_TOKEN;
  }
  assert.equal(jsonl.code, 0, jsonl.stderr);
  const events = jsonl.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(events.some((e) => e.type === 'download' && e.file === 'reference-convert-f32.gguf' && e.state === 'done'));
  assert.equal(events.at(-1).type, 'done');
  assert.equal(events.at(-1).summary.commit, commit);
  assert.equal(json.code, 0, json.stderr);
  const report = JSON.parse(json.stdout);
  assert.equal(report.ok, true);
  assert.equal(report.result.snapshotDir, snap);

  // Failures: wrong token (401) is exit code 5, and says so without echoing the token.
  const denied = await cli(['pull', 'hf:gated/tiny', '--token', SECRET + 'x', '--json', ...common, '--cache-dir', path.join(cacheDir, 'other')]);
  assert.equal(denied.code, 5);
  assert.match(denied.stderr, /gated\/tiny.*401.*gated or private/);
  assert.equal(JSON.parse(denied.stdout).error.kind, 'network');

  for (const r of [human, jsonl, json, denied]) {
    assert.ok(!r.stdout.includes(SECRET), 'token not in stdout');
    assert.ok(!r.stderr.includes(SECRET), 'token not in stderr');
  }
  assert.ok(!allText(cacheDir).includes(SECRET), 'token not stored in the cache');
  assert.ok(hub.stats.requests.some((r) => r.authorized), 'the token was sent (as a header)');
});

test('gguf-forge pull: exit codes for a malformed source, a missing repo and corrupted bytes', async (t) => {
  const hub = await MockHub.start();
  t.after(() => hub.close());
  const files = await sampleModelFiles(SAMPLE);
  hub.addRepo('tiny/model', files);
  const cacheDir = tempDir('hub-cli-');
  const common = ['--endpoint', hub.url, '--cache-dir', cacheDir];

  const malformed = await cli(['pull', 'hf:just-a-name', ...common]);
  assert.equal(malformed.code, 2);
  assert.match(malformed.stderr, /malformed Hugging Face source 'hf:just-a-name'/);
  const local = await cli(['pull', './some/folder', ...common]);
  assert.equal(local.code, 2);
  const badConc = await cli(['pull', 'hf:tiny/model', '--concurrency', '0', ...common]);
  assert.equal(badConc.code, 2);

  const missing = await cli(['pull', 'hf:tiny/absent', '--token', 'x', ...common]);
  assert.equal(missing.code, 5);
  assert.match(missing.stderr, /repository tiny\/absent not found/);

  hub.faults.corrupt.add('model.safetensors');
  const corrupt = await cli(['pull', 'hf:tiny/model', ...common]);
  assert.equal(corrupt.code, 5);
  assert.match(corrupt.stderr, /tiny\/model@[0-9a-f]{40}: model\.safetensors: downloaded bytes fail verification/);

  const offline = await cli(['pull', 'hf:tiny/never', '--offline', ...common]);
  assert.equal(offline.code, 5);
  assert.match(offline.stderr, /tiny\/never@main.*not in the Hugging Face cache/);
});

test('gguf-forge pull: HF_ENDPOINT and HF_HUB_CACHE from the environment; hf:ORG/NAME/FILE also fetches that file', async (t) => {
  const hub = await MockHub.start();
  t.after(() => hub.close());
  const files = await sampleModelFiles(SAMPLE);
  const { commit } = hub.addRepo('tiny/env', files);
  const cacheDir = tempDir('hub-cli-');
  const saved = { HF_ENDPOINT: process.env.HF_ENDPOINT, HF_HUB_CACHE: process.env.HF_HUB_CACHE };
  process.env.HF_ENDPOINT = hub.url;
  process.env.HF_HUB_CACHE = cacheDir;
  let r;
  try {
    r = await cli(['pull', 'hf:tiny/env/reference-convert-f32.gguf', '--json']);
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
  assert.equal(r.code, 0, r.stderr);
  const snap = path.join(cacheDir, 'models--tiny--env', 'snapshots', commit);
  assert.equal(JSON.parse(r.stdout).result.snapshotDir, snap);
  assert.ok(fs.readFileSync(path.join(snap, 'reference-convert-f32.gguf')).equals(files['reference-convert-f32.gguf']));
  assert.ok(fs.existsSync(path.join(snap, 'model.safetensors')));
});
