// The mock Hub is only worth its tests if it answers like the real one: an independent client,
// @huggingface/hub, must read it correctly too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { downloadFile, fileDownloadInfo, listFiles, modelInfo, pathsInfo } from '@huggingface/hub';
import { MockHub, sampleModelFiles } from './support/mock-hub.ts';

const SAMPLE = path.join(import.meta.dirname, '..', 'samples', 'stories260K');

test('@huggingface/hub reads the mock Hub: tree pagination, paths-info, resolve with redirects, model info', async (t) => {
  const hub = await MockHub.start();
  t.after(() => hub.close());
  const files = await sampleModelFiles(SAMPLE);
  hub.addRepo('tiny/m', files, { pageSize: 3 });
  const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

  const listed = [];
  for await (const f of listFiles({ repo: 'tiny/m', hubUrl: hub.url, recursive: true })) listed.push(f);
  assert.deepEqual(listed.map((f) => f.path).sort(), Object.keys(files).sort(), 'every page was followed');
  assert.equal(listed.find((f) => f.path === 'model.safetensors')!.lfs!.oid, sha256(files['model.safetensors']));
  assert.ok(hub.stats.requests.filter((r) => r.url.includes('/tree/')).length >= 3);

  const info = await pathsInfo({ repo: 'tiny/m', paths: ['config.json', 'model.safetensors'], hubUrl: hub.url, revision: 'main' });
  assert.deepEqual(info.map((i) => [i.path, i.size]), [['config.json', files['config.json'].length], ['model.safetensors', files['model.safetensors'].length]]);

  const blob = await downloadFile({ repo: 'tiny/m', path: 'tokenizer.json', hubUrl: hub.url });
  assert.ok(Buffer.from(await blob!.arrayBuffer()).equals(files['tokenizer.json']), 'followed the 302 to the blob URL');
  const dl = await fileDownloadInfo({ repo: 'tiny/m', path: 'model.safetensors', hubUrl: hub.url });
  assert.equal(dl?.etag.replaceAll('"', ''), sha256(files['model.safetensors']));
  assert.equal(dl?.size, files['model.safetensors'].length);

  const model = await modelInfo({ name: 'tiny/m', hubUrl: hub.url });
  assert.equal(model.name, 'tiny/m');
});
