// The TUI against the mock Hub on 127.0.0.1: search as you type, pick a repo, the plan step
// downloads it (progress on screen) into a temp HF cache, run, report, and an `hf:` GGUF opened
// in the inspector with range reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import React from 'react';
import { render } from 'ink-testing-library';
import { App, type TuiDeps } from '../src/tui/app.tsx';
import { convertModel } from '../src/pipeline/convert.ts';
import { listModels } from '../src/hub/search.ts';
import { openInspector } from '../src/tui/data/inspector-data.ts';
import { listCachedModels } from '../src/tui/data/hf-cache.ts';
import { loadHubSummary } from '../src/tui/data/hub-summary.ts';
import { readGguf } from '../formats/gguf/reader.ts';
import { MockHub, sampleModelFiles, tempDir } from './support/mock-hub.ts';
import { KEYS, allOutput, press, waitForText } from './support/tui-harness.ts';

const SAMPLE = path.resolve(import.meta.dirname, '../samples/stories260K');

test('Hub flow: search → pick → plan downloads → run → report; hf: GGUF in the inspector', async () => {
  const hub = await MockHub.start();
  const cacheDir = tempDir('tui-hub-cache-');
  const cwd = tempDir('tui-hub-out-');
  try {
    const files = await sampleModelFiles(SAMPLE);
    const gguf = files['reference-convert-f32.gguf']!;
    delete files['reference-convert-f32.gguf'];
    hub.addRepo('org/stories', files);
    hub.addRepo('org/stories-gguf', { 'stories.gguf': gguf });
    hub.models.push(
      { id: 'org/stories', downloads: 4321, likes: 12, pipeline_tag: 'text-generation', tags: ['safetensors'] },
      { id: 'org/stories-gguf', downloads: 10, likes: 1, pipeline_tag: 'text-generation', tags: ['gguf'] },
    );
    const hubOpts = { endpoint: hub.url, cacheDir, retryDelayMs: 1 };
    const deps: TuiDeps = {
      convert: (opts) => convertModel({ ...opts, hub: hubOpts }),
      search: (query, signal) => listModels({ query, endpoint: hub.url, signal }),
      cached: () => listCachedModels(cacheDir),
      openInspector: (target) => openInspector(target, hubOpts),
      hubSummary: (repo) => loadHubSummary(repo, hubOpts),
      samplePath: SAMPLE,
      cwd,
      debounceMs: 50,
    };
    const r = render(<App deps={deps} />);
    try {
      await waitForText(r, 'Open the bundled sample');
      await press(r, 'c');
      await waitForText(r, 'Search the Hub, or a local path');
      await press(r, ...'stories');
      const results = await waitForText(r, 'org/stories-gguf');
      assert.match(results, /› org\/stories\s+\?\s+\?\s+4\.3k\s+st -{4}/);
      await press(r, KEYS.enter);
      // The summary is read remotely (file list, config.json, safetensors header), nothing downloaded.
      const summary = await waitForText(r, 'supported: this model can be converted');
      assert.match(summary, /on the Hub\s+↓ 4321 downloads · ♥ 12 likes · safetensors/);
      assert.match(summary, /architecture\s+LlamaForCausalLM/);
      assert.match(summary, /parameters\s+260,032/);
      assert.match(summary, /dtype\s+float32/);
      assert.match(summary, /tokenizer\s+tokenizer\.json \+ SentencePiece \(tokenizer\.model\)/);
      assert.match(summary, /files\s+8 files, 1\.03 MiB/);
      assert.ok(!fs.existsSync(path.join(cacheDir, 'models--org--stories', 'snapshots')), 'nothing pulled yet');
      const headerBytes = hub.stats.bytesSent.get('model.safetensors');
      assert.ok(headerBytes !== undefined && headerBytes > 0 && headerBytes < 20_000, `only the safetensors header was read (${headerBytes} bytes)`);
      await press(r, KEYS.enter);
      // The parameter count from the remote header gives size estimates on the target screen.
      assert.match(await waitForText(r, '› q4_0'), /q8_0\s+8\.50\s+~269\.81 KiB/);
      await press(r, KEYS.down, KEYS.down, KEYS.enter);
      const plan = await waitForText(r, 'Start the conversion?', 60_000);
      assert.match(plan, /47 tensors · 5 fallbacks · total 336\.53 KiB/);
      // The plan step pulled the repo: the download progress was on screen.
      assert.match(allOutput(r), /download +█+░* +\d+% .* of \d+ files complete|files complete/);
      assert.ok(fs.existsSync(path.join(cacheDir, 'models--org--stories')));
      await press(r, KEYS.enter);
      await waitForText(r, 'anomalies: none', 60_000);
      const out = path.join(cwd, 'stories-Q8_0.gguf');
      assert.equal((await readGguf(out)).tensors.length, 47);
    } finally {
      r.unmount();
    }
    const r2 = render(<App deps={deps} />);
    try {
      await waitForText(r2, 'Open the bundled sample');
      await press(r2, 'i', ...'hf:org/stories-gguf/stories.gguf', KEYS.enter);
      const frame = await waitForText(r2, '[metadata]', 30_000);
      assert.match(frame, /inspect · hf:org\/stories-gguf\/stories\.gguf/);
      assert.match(frame, /47 tensors · 260,032 params/);
      await press(r2, KEYS.tab);
      assert.match(await waitForText(r2, /values .*\(all values\)/), /› token_embd\.weight\s+F32\s+64×512/);
      // A GGUF-only repo from the search: its summary says why it cannot be converted, and i inspects its GGUF.
      await press(r2, KEYS.escape, KEYS.escape);
      await waitForText(r2, 'Open the bundled sample');
      await press(r2, 'c');
      await waitForText(r2, 'Search the Hub, or a local path');
      await press(r2, ...'stories');
      // The repo pulled above is now offered from the HF cache, before the Hub results.
      await waitForText(r2, /org\/stories +cached\n.*org\/stories +\?.*4\.3k.*\n.*org\/stories-gguf +\?.*10/);
      await press(r2, KEYS.down, KEYS.down);
      await waitForText(r2, '› org/stories-gguf');
      await press(r2, KEYS.enter);
      const ggufSummary = await waitForText(r2, 'i inspect stories.gguf');
      assert.match(ggufSummary, /not supported: hf:org\/stories-gguf has no config\.json/);
      await press(r2, 'i');
      assert.match(await waitForText(r2, '[metadata]', 30_000), /inspect · hf:org\/stories-gguf\/stories\.gguf/);
    } finally {
      r2.unmount();
    }
  } finally {
    await hub.close();
  }
});
