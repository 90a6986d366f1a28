/**
 * Plan before download: for an `hf:` source, `convert --dry-run` (and the TUI's plan screen, which
 * shares the planner) builds the plan from config/tokenizer files and the safetensors headers read
 * with range requests. The mock Hub on 127.0.0.1 counts the bytes it sends: no weight bytes go out
 * beyond the header, the plan equals the plan of the same model as a local folder, and the real run
 * afterwards writes exactly the planned size.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { convertModel } from '../src/pipeline/convert.ts';
import { readSafetensorsHeader } from '../formats/safetensors/reader.ts';
import { MockHub, sampleModelFiles, tempDir } from './support/mock-hub.ts';
import { runJob } from './support/run-job.ts';

const SAMPLE = path.resolve(import.meta.dirname, '../samples/stories260K');

test('an hf: dry run reads only the safetensors header, and its plan is the local plan', async () => {
  const hub = await MockHub.start();
  const cacheDir = tempDir('plan-hub-cache-');
  const out = tempDir('plan-hub-out-');
  try {
    const files = await sampleModelFiles(SAMPLE);
    delete files['reference-convert-f32.gguf'];
    hub.addRepo('org/stories', files);
    const hubOpts = { endpoint: hub.url, cacheDir, retryDelayMs: 1 };
    const common = { fileType: 'q5_K_M', name: 'stories260K', output: path.join(out, 'o.gguf') };
    const { result: remote, events } = await runJob(convertModel({ ...common, source: 'hf:org/stories', dryRun: true, hub: hubOpts }));
    const { result: local } = await runJob(convertModel({ ...common, source: SAMPLE, dryRun: true }));

    const weights = files['model.safetensors']!;
    const header = await readSafetensorsHeader(path.join(SAMPLE, 'model.safetensors'));
    const sent = hub.bytesSent('model.safetensors');
    assert.ok(sent > 0, 'the header was read from the Hub');
    assert.ok(sent <= (8 + header.headerSize) + 4096, `only the header travelled: ${sent} bytes sent of a ${weights.length}-byte file whose header is ${(8 + header.headerSize)} bytes`);
    assert.equal(events.filter((e) => e.type === 'download' && e.file === 'model.safetensors').length, 0, 'no download of the weights');
    const snapshots = path.join(cacheDir, 'models--org--stories', 'snapshots');
    for (const snap of fs.readdirSync(snapshots)) assert.ok(!fs.existsSync(path.join(snapshots, snap, 'model.safetensors')), 'no weights in the cache');

    assert.equal(remote.dryRun, true);
    assert.deepEqual(remote.plan, local.plan);
    assert.equal(remote.outputBytes, local.outputBytes);
    assert.equal(remote.headerBytes, local.headerBytes);
    assert.equal(remote.fallbacks, local.fallbacks);

    // The run downloads the weights of the planned commit and writes exactly the planned size.
    const { result: done } = await runJob(convertModel({ ...common, source: 'hf:org/stories', hub: hubOpts }));
    assert.equal(done.outputBytes, remote.outputBytes);
    assert.equal(fs.statSync(common.output).size, remote.outputBytes);
    assert.ok(hub.bytesSent('model.safetensors') >= weights.length, 'the run fetched the weights');
  } finally {
    await hub.close();
  }
});
