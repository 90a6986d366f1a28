/**
 * Issue 13 (convert hf: --imatrix auto): one command pulls the model whole into the resumable Hub
 * cache (download events on the way), computes the importance matrix from the cached snapshot and
 * converts, with no f16 intermediate. Against a mock Hub on 127.0.0.1, the compiled CLI writes a
 * file byte-equal to `convert --imatrix auto` of the same model from a local folder; a second run
 * finds the weights in the cache and downloads nothing again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { MockHub, sampleModelFiles, tempDir } from './support/mock-hub.ts';
import { ROOT, runCli, runCliAsync } from './support/cli.ts';

const SAMPLE = path.join(ROOT, 'samples/stories260K');
const CALIB = path.join(ROOT, 'test/fixtures/imatrix-calib-stories.txt');

test('convert hf:ORG/NAME --imatrix auto: pulled whole into the cache, imatrix computed from the snapshot, output byte-equal to the local-folder run', async () => {
  const hub = await MockHub.start();
  const cache = tempDir('imatrix-hub-cache-');
  const out = tempDir('imatrix-hub-out-');
  try {
    const files = await sampleModelFiles(SAMPLE);
    delete files['reference-convert-f32.gguf'];
    hub.addRepo('org/stories260K', files);
    // The local folder holds the same files under the repo's name (the model is named after either).
    const local = path.join(out, 'stories260K');
    fs.mkdirSync(local);
    for (const [name, bytes] of Object.entries(files)) fs.writeFileSync(path.join(local, name), bytes);

    const common = ['--type', 'q4_1', '--imatrix', 'auto', '--calib', CALIB, '--ctx', '64', '--chunks', '3', '--threads', '1', '--no-validate'];
    const env = { HF_ENDPOINT: hub.url, HF_HUB_CACHE: cache, HF_TOKEN: '' };
    const fromHub = path.join(out, 'hub.gguf');
    const r = await runCliAsync(['convert', 'hf:org/stories260K', ...common, '-o', fromHub, '--jsonl'], { env });
    assert.equal(r.status, 0, r.stderr);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; file?: string; state?: string; summary?: { hub?: { repo: string }; imatrix?: { file: string; chunks: number } } });
    const firstDownload = events.findIndex((e) => e.type === 'download' && e.file === 'model.safetensors');
    const firstImatrix = events.findIndex((e) => e.type === 'imatrix');
    assert.ok(firstDownload >= 0, 'the weights were downloaded, with download events');
    assert.ok(events.some((e) => e.type === 'download' && e.file === 'model.safetensors' && e.state === 'done'));
    assert.ok(firstImatrix > firstDownload, 'the imatrix is computed after the pull');
    const done = events.at(-1)!;
    assert.equal(done.type, 'done');
    assert.equal(done.summary?.hub?.repo, 'org/stories260K');
    assert.equal(done.summary?.imatrix?.file, 'auto');
    assert.ok(hub.bytesSent('model.safetensors') >= files['model.safetensors']!.length, 'the whole weights file came from the Hub');
    const snapshots = path.join(cache, 'models--org--stories260K', 'snapshots');
    assert.equal(fs.readdirSync(snapshots).length, 1);
    assert.ok(fs.existsSync(path.join(snapshots, fs.readdirSync(snapshots)[0]!, 'model.safetensors')), 'the weights are in the Hub cache');

    const fromLocal = path.join(out, 'local.gguf');
    const l = runCli(['convert', local, ...common, '-o', fromLocal]);
    assert.equal(l.status, 0, l.stderr);
    assert.ok(fs.readFileSync(fromHub).equals(fs.readFileSync(fromLocal)), 'hf: and local-folder runs write the same bytes');

    // Again: the cache answers, no weight byte travels twice.
    const sent = hub.bytesSent('model.safetensors');
    const again = path.join(out, 'again.gguf');
    const r2 = await runCliAsync(['convert', 'hf:org/stories260K', ...common, '-o', again, '--jsonl'], { env });
    assert.equal(r2.status, 0, r2.stderr);
    assert.equal(hub.bytesSent('model.safetensors'), sent);
    assert.ok(r2.stdout.includes('"state":"cached"'));
    assert.ok(fs.readFileSync(again).equals(fs.readFileSync(fromLocal)));
  } finally {
    await hub.close();
  }
});

test('convert hf: --imatrix auto --dry-run still fetches no weights (the plan names the auto imatrix)', async () => {
  const hub = await MockHub.start();
  const cache = tempDir('imatrix-hub-dry-');
  try {
    const files = await sampleModelFiles(SAMPLE);
    delete files['reference-convert-f32.gguf'];
    hub.addRepo('org/stories260K', files);
    const r = await runCliAsync(['convert', 'hf:org/stories260K', '--type', 'q4_1', '--imatrix', 'auto', '--dry-run', '--json'], { env: { HF_ENDPOINT: hub.url, HF_HUB_CACHE: cache, HF_TOKEN: '' } });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(hub.bytesSent('model.safetensors') < files['model.safetensors']!.length / 2, 'only the header was read');
    assert.equal((JSON.parse(r.stdout) as { result: { imatrix?: { file: string } } }).result.imatrix?.file, 'auto');
  } finally {
    await hub.close();
  }
});

test('imatrix hf:ORG/NAME: the model is pulled into the cache, and the matrix equals the local-folder run\'s', async () => {
  const hub = await MockHub.start();
  const cache = tempDir('imatrix-hub-cmd-');
  const out = tempDir('imatrix-hub-cmd-out-');
  try {
    const files = await sampleModelFiles(SAMPLE);
    delete files['reference-convert-f32.gguf'];
    hub.addRepo('org/stories260K', files);
    const common = ['--calib', CALIB, '--ctx', '64', '--chunks', '3', '--threads', '1'];
    const fromHub = path.join(out, 'hub.imatrix.gguf');
    const r = await runCliAsync(['imatrix', 'hf:org/stories260K', ...common, '-o', fromHub, '--jsonl'], { env: { HF_ENDPOINT: hub.url, HF_HUB_CACHE: cache, HF_TOKEN: '' } });
    assert.equal(r.status, 0, r.stderr);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; file?: string });
    assert.ok(events.some((e) => e.type === 'download' && e.file === 'model.safetensors'), 'download events');
    const fromLocal = path.join(out, 'local.imatrix.gguf');
    const l = runCli(['imatrix', SAMPLE, ...common, '-o', fromLocal]);
    assert.equal(l.status, 0, l.stderr);
    assert.ok(fs.readFileSync(fromHub).equals(fs.readFileSync(fromLocal)), 'hf: and local-folder imatrix files are equal');
  } finally {
    await hub.close();
  }
});
