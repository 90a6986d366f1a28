// Issue 15, Major 2, in a real terminal: the compiled binary under tmux, pointed at the mock Hub on
// 127.0.0.1 (HF_ENDPOINT, HF_HUB_CACHE). Search → pick → summary → q8_0 → plan: the plan screen
// shows the exact size while only the safetensors header has travelled and no weight file is in the
// cache; starting the run then downloads the weights and writes the planned file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TmuxSession, noTmux } from './support/tmux.ts';
import { MockHub, sampleModelFiles, tempDir } from './support/mock-hub.ts';
import { readSafetensorsHeader } from '../formats/safetensors/reader.ts';
import { readGguf } from '../formats/gguf/reader.ts';

const SAMPLE = path.resolve(import.meta.dirname, '../samples/stories260K');

test('tmux: Hub search → pick → plan before download (header only) → run downloads and writes the planned size', { skip: noTmux, timeout: 240_000 }, async () => {
  const hub = await MockHub.start();
  const cacheDir = tempDir('tui-hub-e2e-cache-');
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'gguf-forge-hub-e2e-'));
  const files = await sampleModelFiles(SAMPLE);
  delete files['reference-convert-f32.gguf'];
  hub.addRepo('org/stories', files);
  hub.models.push({ id: 'org/stories', downloads: 4321, likes: 12, pipeline_tag: 'text-generation', tags: ['safetensors'] });
  const s = new TmuxSession({ cwd, columns: 120, rows: 40, env: { NO_COLOR: '1', HF_ENDPOINT: hub.url, HF_HUB_CACHE: cacheDir, HF_TOKEN: '' } });
  try {
    await s.waitFor('Open the bundled sample');
    await s.keys('c');
    await s.waitFor('Search the Hub, or a local path');
    for (const ch of 'stories') await s.keys(ch);
    await s.waitFor(/› org\/stories/);
    await s.keys('Enter');
    await s.waitFor('supported: this model can be converted');
    await s.keys('Enter');
    await s.waitFor('› q4_0');
    await s.keys('Down');
    await s.keys('Down');
    await s.waitFor('› q8_0');
    await s.keys('Enter');
    const plan = await s.waitFor('Start the conversion?', 120_000);
    const total = /total ([\d.]+ KiB)/.exec(plan);
    assert.ok(total, plan);
    const header = await readSafetensorsHeader(path.join(SAMPLE, 'model.safetensors'));
    const sent = hub.bytesSent('model.safetensors');
    // The summary screen and the plan each read the header once (≤ header + 4 KiB); never the weights.
    assert.ok(sent <= 2 * (8 + header.headerSize + 4096), `only the safetensors header travelled before the run: ${sent} bytes of ${files['model.safetensors']!.length}`);
    const snapshots = path.join(cacheDir, 'models--org--stories', 'snapshots');
    for (const snap of fs.existsSync(snapshots) ? fs.readdirSync(snapshots) : []) {
      assert.ok(!fs.existsSync(path.join(snapshots, snap, 'model.safetensors')), 'no weights in the cache at plan time');
    }
    await s.keys('Enter');
    await s.waitFor('anomalies: none', 120_000);
    assert.ok(hub.bytesSent('model.safetensors') >= files['model.safetensors']!.length, 'the run fetched the weights');
    const out = fs.readdirSync(cwd).find((f) => f.endsWith('.gguf'));
    assert.ok(out, `an output in ${cwd}: ${fs.readdirSync(cwd).join(', ')}`);
    assert.equal((await readGguf(path.join(cwd, out!))).tensors.length, 47);
    assert.match(plan, new RegExp(`total ${total![1]!.replace('.', '\\.')}`));
  } finally {
    s.kill();
    await hub.close();
    fs.rmSync(cwd, { recursive: true, force: true });
  }
});
