import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { openHubFile } from '../src/hub/remote-file.ts';
import { listModels } from '../src/hub/search.ts';
import { resolveSource } from '../src/hub/resolve-source.ts';
import { pullModel } from '../src/hub/pull.ts';
import { readGguf } from '../formats/gguf/reader.ts';
import { ForgeError } from '../formats/errors.ts';
import type { PipelineEvent } from '../src/pipeline/events.ts';
import { MockHub, sampleModelFiles, tempDir } from './support/mock-hub.ts';
import { rejectsWith as rejects } from './support/forge-error.ts';

const SAMPLE = path.join(import.meta.dirname, '..', 'samples', 'stories260K');
const GGUF = 'reference-convert-f32.gguf';

test('openHubFile reads a remote GGUF header with range requests only', async (t) => {
  const hub = await MockHub.start();
  t.after(() => hub.close());
  const files = await sampleModelFiles(SAMPLE);
  // The header reader reads 1 MiB windows, and the sample is about 1 MiB: append 8 MiB of extra
  // tensor-data bytes so "reads only the header" is measurable.
  files[GGUF] = Buffer.concat([files[GGUF], Buffer.alloc(8 << 20, 7)]);
  const { commit } = hub.addRepo('tiny/gguf', files, { refs: ['main'], gatedToken: 'hf_tok' });
  const cacheDir = tempDir('hub-remote-');

  const src = await openHubFile({ repo: 'tiny/gguf', path: GGUF }, { endpoint: hub.url, token: 'hf_tok', cacheDir });
  assert.equal(src.name, `hf:tiny/gguf@${commit}/${GGUF}`);
  assert.equal(await src.size(), files[GGUF].length);
  const remote = await readGguf(src);
  const local = await readGguf(path.join(SAMPLE, GGUF));
  assert.ok(remote.tensors.length > 0);
  assert.deepEqual(remote.tensors.map((x) => [x.name, x.ne, x.type, x.offset]), local.tensors.map((x) => [x.name, x.ne, x.type, x.offset]));
  assert.deepEqual(remote.kvs.map((kv) => kv.key), local.kvs.map((kv) => kv.key));
  // Any range is exact bytes of the file.
  const off = 600_001;
  assert.ok(Buffer.from(await src.read(off, 4096)).equals(files[GGUF].subarray(off, off + 4096)));
  await src.close();
  const sent = hub.bytesSent(GGUF);
  assert.ok(sent < files[GGUF].length / 4, `only header ranges were sent (${sent} of ${files[GGUF].length} bytes)`);
  assert.ok(hub.stats.requests.filter((r) => r.url.startsWith('/cdn/')).every((r) => r.range), 'every file request is a Range request');

  await rejects(openHubFile({ repo: 'tiny/gguf', path: GGUF }, { endpoint: hub.url, cacheDir }), 'network', 'UNAUTHORIZED', /tiny\/gguf.*401/);
  await rejects(openHubFile({ repo: 'tiny/gguf', path: 'nope.gguf' }, { endpoint: hub.url, token: 'hf_tok', cacheDir }), 'network', 'FILE_NOT_FOUND', /file nope\.gguf not found in tiny\/gguf@/);
  await rejects(openHubFile({ repo: 'tiny/gguf' }, { endpoint: hub.url }), 'usage', 'BAD_HUB_SOURCE', /name a file/);

  // 500 then success: the range read is retried.
  const src2 = await openHubFile({ repo: 'tiny/gguf', revision: commit, path: GGUF }, { endpoint: hub.url, token: 'hf_tok', cacheDir, retryDelayMs: 1 });
  hub.faults.status.set(GGUF, { status: 500, times: 1 });
  assert.ok(Buffer.from(await src2.read(0, 4)).equals(Buffer.from('GGUF')));
  assert.equal(hub.faults.status.get(GGUF)!.times, 0);
});

test('openHubFile reads a file already in the cache from disk, which also works offline', async (t) => {
  const hub = await MockHub.start();
  t.after(() => hub.close());
  const files = await sampleModelFiles(SAMPLE);
  const { commit } = hub.addRepo('tiny/cached', files);
  const cacheDir = tempDir('hub-remote-');
  const o = { endpoint: hub.url, cacheDir };

  await rejects(openHubFile({ repo: 'tiny/cached', path: GGUF }, { ...o, offline: true }), 'network', 'OFFLINE_CACHE_MISS', /hf:tiny\/cached\/reference-convert-f32\.gguf is not in the Hugging Face cache/);
  for await (const _ of pullModel({ repo: 'tiny/cached', include: ['*.gguf'], ...o }));
  const sent = hub.totalBytesSent();
  for (const offline of [false, true]) {
    const src = await openHubFile({ repo: 'tiny/cached', path: GGUF }, { ...o, offline });
    assert.equal(src.name, `hf:tiny/cached@${commit}/${GGUF}`);
    const gguf = await readGguf(src);
    assert.ok(gguf.tensors.length > 0);
    await src.close();
  }
  assert.equal(hub.totalBytesSent(), sent, 'no file bytes requested once the file is cached');
  await rejects(openHubFile({ repo: 'tiny/cached', revision: 'dev', path: GGUF }, { ...o, offline: true }), 'network', 'OFFLINE_CACHE_MISS', /@dev/);
});

test('listModels returns text-generation models with safetensors or GGUF, with counts', async (t) => {
  const hub = await MockHub.start();
  t.after(() => hub.close());
  hub.models.push(
    { id: 'a/llama-tiny', downloads: 100, likes: 5, pipeline_tag: 'text-generation', tags: ['transformers', 'safetensors'] },
    { id: 'b/llama-tiny-GGUF', downloads: 50, likes: 2, pipeline_tag: 'text-generation', tags: ['gguf'] },
    { id: 'c/llama-old', downloads: 10, likes: 1, pipeline_tag: 'text-generation', tags: ['pytorch'], siblings: [{ rfilename: 'pytorch_model.bin' }] },
    { id: 'd/llama-files', downloads: 7, likes: 0, pipeline_tag: 'text-generation', tags: [], siblings: [{ rfilename: 'model-00001-of-00002.safetensors' }] },
    { id: 'e/llama-vision', downloads: 9, likes: 0, pipeline_tag: 'image-classification', tags: ['safetensors'] },
    { id: 'f/other', downloads: 1, likes: 0, pipeline_tag: 'text-generation', tags: ['safetensors'] },
  );
  const found = await listModels({ query: 'llama', endpoint: hub.url });
  assert.deepEqual(found, [
    { id: 'a/llama-tiny', downloads: 100, likes: 5, hasSafetensors: true, hasGguf: false, pipelineTag: 'text-generation', gated: false },
    { id: 'b/llama-tiny-GGUF', downloads: 50, likes: 2, hasSafetensors: false, hasGguf: true, pipelineTag: 'text-generation', gated: false },
    { id: 'd/llama-files', downloads: 7, likes: 0, hasSafetensors: true, hasGguf: false, pipelineTag: 'text-generation', gated: false },
  ]);
  assert.equal((await listModels({ query: 'llama', limit: 1, endpoint: hub.url })).length, 1);
  const req = hub.stats.requests.find((r) => r.url.startsWith('/api/models?'))!;
  assert.match(req.url, /search=llama/);
  assert.match(req.url, /pipeline_tag=text-generation/);
});

test('resolveSource: a local folder as is, an hf: source pulled into the cache with its events', async (t) => {
  const hub = await MockHub.start();
  t.after(() => hub.close());
  const files = await sampleModelFiles(SAMPLE);
  const { commit } = hub.addRepo('tiny/src', files);
  const cacheDir = tempDir('hub-src-');

  const local = resolveSource(SAMPLE);
  const l = await local.next();
  assert.equal(l.done, true);
  assert.deepEqual(l.value, { dir: path.resolve(SAMPLE) });

  const events: PipelineEvent[] = [];
  const gen = resolveSource('hf:tiny/src@main', { endpoint: hub.url, cacheDir });
  let r = await gen.next();
  while (!r.done) {
    events.push(r.value);
    r = await gen.next();
  }
  assert.equal(r.value.dir, path.join(cacheDir, 'models--tiny--src', 'snapshots', commit));
  assert.equal(r.value.hub?.commit, commit);
  assert.ok(fs.readFileSync(path.join(r.value.dir, 'config.json')).equals(files['config.json']));
  assert.ok(events.some((e) => e.type === 'download' && e.file === 'model.safetensors' && e.state === 'done'));

  await rejects(resolveSource('hf:tiny/src/model.safetensors').next(), 'usage', 'BAD_HUB_SOURCE', /whole repo/);
  await rejects(resolveSource('hf:bad').next(), 'usage', 'BAD_HUB_SOURCE', /hf:bad/);
  await rejects(resolveSource(path.join(cacheDir, 'missing')).next(), 'usage', 'NO_INPUT', /model folder not found: .*missing/); // a bad argument (exit 2), not a disk error
});
