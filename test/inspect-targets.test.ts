/**
 * `inspect` on the other kinds of target: a GGUF inside a Hub repo (range reads only, through the
 * mock Hub on 127.0.0.1) and an AWQ/GPTQ checkpoint folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runInspectCommand } from '../src/cli/commands/inspect.ts';
import { convertAwqGptq } from '../src/pipeline/awq-gptq.ts';
import { ensureSamples, SAMPLE } from '../samples/lib/index.ts';
import { MockHub, sampleModelFiles, tempDir } from './support/mock-hub.ts';
import { runJob } from './support/run-job.ts';

const STORIES = path.join(import.meta.dirname, '..', 'samples', 'stories260K');
const GGUF = 'reference-convert-f32.gguf';

test('inspect hf:ORG/NAME/file.gguf equals inspecting the local file, reading only header ranges', async (t) => {
  const hub = await MockHub.start();
  t.after(() => hub.close());
  const files = await sampleModelFiles(STORIES);
  files[GGUF] = Buffer.concat([files[GGUF], Buffer.alloc(8 << 20, 7)]);
  hub.addRepo('tiny/gguf', files, { refs: ['main'] });
  const prev = { endpoint: process.env.HF_ENDPOINT, cache: process.env.HF_HUB_CACHE };
  process.env.HF_ENDPOINT = hub.url;
  process.env.HF_HUB_CACHE = tempDir('inspect-hub-');
  t.after(() => {
    for (const [k, v] of [['HF_ENDPOINT', prev.endpoint], ['HF_HUB_CACHE', prev.cache]] as const) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  });
  let remote = '';
  await runInspectCommand(`hf:tiny/gguf/${GGUF}`, { json: true }, (s) => { remote += s; });
  let local = '';
  await runInspectCommand(path.join(STORIES, GGUF), { json: true }, (s) => { local += s; });
  const r = JSON.parse(remote).result;
  const l = JSON.parse(local).result;
  assert.deepEqual(r.metadata, l.metadata);
  assert.deepEqual(r.tensors, l.tensors);
  assert.ok(hub.bytesSent(GGUF) < files[GGUF].length / 4, `sent ${hub.bytesSent(GGUF)} bytes`);
});

test('inspect on an AWQ and a GPTQ folder shows the config, packed layers and a decoded group', async () => {
  const root = await ensureSamples();
  const dir = mkdtempSync(path.join(tmpdir(), 'inspect-awq-'));
  try {
    for (const method of ['awq', 'gptq'] as const) {
      const out = path.join(dir, method);
      await runJob(convertAwqGptq({ source: path.join(root, SAMPLE.llama.bf16), output: out, method, groupSize: 128, algorithm: 'rtn' }));
      let json = '';
      await runInspectCommand(out, { json: true, layer: 'layers.1.mlp.down_proj', group: '2' }, (s) => { json += s; });
      const report = JSON.parse(json).result;
      assert.equal(report.method, method);
      assert.equal(report.bits, 4);
      assert.equal(report.groupSize, 128);
      assert.equal(report.sym, method === 'gptq');
      assert.equal(report.layers.length, 2 * 7, 'seven packed linears per layer');
      assert.equal(report.group.module, 'model.layers.1.mlp.down_proj');
      assert.equal(report.group.group, 2);
      assert.deepEqual(report.group.columns, Array.from({ length: 128 }, (_, i) => 256 + i), 'group 2 of in=512 covers columns 256..383');
      for (const c of report.group.channels) {
        assert.ok(c.scale > 0 && Number.isFinite(c.scale));
        assert.ok(Number.isInteger(c.zero) && c.zero >= 0 && c.zero <= 15);
        if (method === 'gptq') assert.equal(c.zero, 8, 'symmetric 4-bit zero');
      }
      let human = '';
      await runInspectCommand(out, {}, (s) => { human += s; });
      assert.match(human, /q_proj/);
      assert.match(human, /group/i);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('inspect --jsonl prints the result as one done event line', async () => {
  let out = '';
  await runInspectCommand(path.join(STORIES, GGUF), { jsonl: true }, (s) => { out += s; });
  const lines = out.trimEnd().split('\n');
  assert.equal(lines.length, 1);
  const ev = JSON.parse(lines[0]!);
  assert.equal(ev.type, 'done');
  assert.equal(ev.summary.tensors.length, 47);
});
