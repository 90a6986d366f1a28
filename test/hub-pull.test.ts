import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { pullModel, type PullOptions, type PullResult } from '../src/hub/pull.ts';
import type { DownloadEvent, PipelineEvent } from '../src/pipeline/events.ts';
import { ForgeError, NetworkError } from '../formats/errors.ts';
import { MockHub, sampleModelFiles, tempDir } from './support/mock-hub.ts';
import { rejectsWith as rejects } from './support/forge-error.ts';
import { runPull as run } from './support/pull-job.ts';

const SAMPLE = path.join(import.meta.dirname, '..', 'samples', 'stories260K');
const tmp = () => tempDir('hub-pull-');

const downloads = (events: PipelineEvent[]) => events.filter((e): e is DownloadEvent => e.type === 'download');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const gitSha1 = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

test('a full pull of the sample model lays out the HF cache like huggingface_hub', async (t) => {
  const hub = await MockHub.start();
  t.after(() => hub.close());
  const files = await sampleModelFiles(SAMPLE);
  const { commit } = hub.addRepo('tiny/stories260K', files);
  const cacheDir = tmp();

  const { events, result } = await run({ repo: 'tiny/stories260K', endpoint: hub.url, cacheDir });
  const expected = ['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer.model', 'tokenizer_config.json'];
  assert.deepEqual([...result.files].sort(), expected);
  assert.equal(result.commit, commit);
  const repoDir = path.join(cacheDir, 'models--tiny--stories260K');
  assert.equal(result.snapshotDir, path.join(repoDir, 'snapshots', commit));
  assert.equal(fs.readFileSync(path.join(repoDir, 'refs', 'main'), 'utf8'), commit, 'refs/main holds the sha, no newline');

  for (const name of expected) {
    const link = path.join(result.snapshotDir, name);
    const target = fs.readlinkSync(link);
    const lfs = name.endsWith('.safetensors') || name.endsWith('.model') || files[name].length >= 10_000;
    const etag = lfs ? sha256(files[name]) : gitSha1(files[name]);
    assert.equal(target, path.join('..', '..', 'blobs', etag), `${name} is a relative link to its blob`);
    assert.ok(fs.readFileSync(link).equals(files[name]), `${name} bytes are identical`);
  }
  // Weights the converter does not read are skipped.
  for (const skipped of ['README.md', 'eval.txt', 'reference-convert-f32.gguf']) {
    assert.equal(fs.existsSync(path.join(result.snapshotDir, skipped)), false, skipped);
    assert.equal(hub.bytesSent(skipped), 0);
  }
  assert.deepEqual(fs.readdirSync(path.join(repoDir, 'blobs')).filter((f) => f.endsWith('.incomplete')), []);

  // Progress: per-file start/done, overall reaches the total.
  const dl = downloads(events);
  for (const name of expected) {
    assert.ok(dl.some((e) => e.file === name && e.state === 'start'), `${name} start`);
    const done = dl.find((e) => e.file === name && e.state === 'done')!;
    assert.equal(done.fileProgress.bytesDone, files[name].length);
    assert.equal(done.fileProgress.bytesTotal, files[name].length);
  }
  const total = expected.reduce((s, n) => s + files[n].length, 0);
  const last = dl.at(-1)!;
  assert.equal(last.overall.bytesTotal, total);
  assert.equal(last.overall.bytesDone, total);
  assert.equal(hub.totalBytesSent(), total, 'each needed byte sent exactly once');

  // A second pull is a no-op: no file bytes sent, every file reported as cached.
  const before = hub.totalBytesSent();
  const again = await run({ repo: 'tiny/stories260K', endpoint: hub.url, cacheDir });
  assert.equal(hub.totalBytesSent(), before);
  assert.deepEqual(downloads(again.events).map((e) => e.state), expected.map(() => 'cached'));
  assert.equal(again.result.snapshotDir, result.snapshotDir);
});

test('a blob already in the cache (as Python huggingface_hub writes it) is reused', async (t) => {
  const hub = await MockHub.start();
  t.after(() => hub.close());
  const files = await sampleModelFiles(SAMPLE);
  const { commit } = hub.addRepo('tiny/py', files);
  const cacheDir = tmp();
  // Lay out what `hf_hub_download(..., "model.safetensors")` leaves behind.
  const repoDir = path.join(cacheDir, 'models--tiny--py');
  fs.mkdirSync(path.join(repoDir, 'blobs'), { recursive: true });
  fs.writeFileSync(path.join(repoDir, 'blobs', sha256(files['model.safetensors'])), files['model.safetensors']);
  const { events, result } = await run({ repo: 'tiny/py', endpoint: hub.url, cacheDir });
  assert.equal(hub.bytesSent('model.safetensors'), 0);
  assert.equal(downloads(events).find((e) => e.file === 'model.safetensors')!.state, 'cached');
  assert.ok(fs.readFileSync(path.join(result.snapshotDir, 'model.safetensors')).equals(files['model.safetensors']));
  assert.equal(result.commit, commit);
});

test('a branch writes refs/<branch>; a tag and a sha resolve to the same snapshot; --include adds files', async (t) => {
  const hub = await MockHub.start();
  t.after(() => hub.close());
  const files = await sampleModelFiles(SAMPLE);
  const { commit } = hub.addRepo('org/branchy', files, { refs: ['main', 'dev', 'v1.0'], pageSize: 2 });
  const cacheDir = tmp();
  const repoDir = path.join(cacheDir, 'models--org--branchy');

  const dev = await run({ repo: 'org/branchy', revision: 'dev', endpoint: hub.url, cacheDir, include: ['*.gguf'] });
  assert.equal(fs.readFileSync(path.join(repoDir, 'refs', 'dev'), 'utf8'), commit);
  assert.equal(fs.existsSync(path.join(repoDir, 'refs', 'main')), false, 'only the asked-for ref is written');
  assert.equal(dev.result.snapshotDir, path.join(repoDir, 'snapshots', commit));
  assert.ok(dev.result.files.includes('reference-convert-f32.gguf'), 'pagination reached every page and --include added the gguf');
  assert.ok(fs.readFileSync(path.join(dev.result.snapshotDir, 'reference-convert-f32.gguf')).equals(files['reference-convert-f32.gguf']));

  const tag = await run({ repo: 'org/branchy', revision: 'v1.0', endpoint: hub.url, cacheDir });
  assert.equal(fs.readFileSync(path.join(repoDir, 'refs', 'v1.0'), 'utf8'), commit);
  const bySha = await run({ repo: 'org/branchy', revision: commit, endpoint: hub.url, cacheDir });
  assert.equal(bySha.result.snapshotDir, dev.result.snapshotDir);
  assert.deepEqual(fs.readdirSync(path.join(repoDir, 'refs')).sort(), ['dev', 'v1.0'], 'a sha writes no ref');
  assert.equal(tag.result.commit, commit);
});

test('offline mode: a warm cache answers without the network, a cold one fails clearly', async (t) => {
  const hub = await MockHub.start();
  t.after(() => hub.close());
  const files = await sampleModelFiles(SAMPLE);
  const { commit } = hub.addRepo('tiny/off', files);
  const cacheDir = tmp();
  const online = await run({ repo: 'tiny/off', endpoint: hub.url, cacheDir });

  const requests = hub.stats.requests.length;
  const warm = await run({ repo: 'tiny/off', endpoint: hub.url, cacheDir, offline: true });
  assert.equal(hub.stats.requests.length, requests, 'no request in offline mode');
  assert.equal(warm.result.snapshotDir, online.result.snapshotDir);
  assert.equal(warm.result.commit, commit);
  assert.deepEqual([...warm.result.files].sort(), [...online.result.files].sort());
  assert.ok(downloads(warm.events).every((e) => e.state === 'cached'));

  // HF_HUB_OFFLINE=1 from the environment too.
  process.env.HF_HUB_OFFLINE = '1';
  try {
    const envWarm = await run({ repo: 'tiny/off', endpoint: hub.url, cacheDir });
    assert.equal(envWarm.result.commit, commit);
    await rejects(run({ repo: 'tiny/cold', endpoint: hub.url, cacheDir }), 'network', 'OFFLINE_CACHE_MISS', /tiny\/cold@main.*not in the Hugging Face cache.*HF_HUB_OFFLINE/);
  } finally {
    delete process.env.HF_HUB_OFFLINE;
  }
  await rejects(run({ repo: 'tiny/off', revision: 'dev', endpoint: hub.url, cacheDir, offline: true }), 'network', 'OFFLINE_CACHE_MISS', /revision 'dev'/);
  await rejects(run({ repo: 'tiny/off', endpoint: hub.url, cacheDir, offline: true, include: ['eval.txt'] }), 'network', 'OFFLINE_CACHE_MISS', /file eval\.txt/);
  // A blob deleted behind our back leaves a dangling link: reported, not half-used.
  fs.rmSync(path.join(cacheDir, 'models--tiny--off', 'blobs', sha256(files['model.safetensors'])));
  await rejects(run({ repo: 'tiny/off', endpoint: hub.url, cacheDir, offline: true }), 'network', 'OFFLINE_CACHE_MISS', /model\.safetensors/);
  assert.equal(hub.stats.requests.length, requests);
});

test('repo file paths with .. or an absolute path are rejected before anything is written', async (t) => {
  const hub = await MockHub.start();
  t.after(() => hub.close());
  const files = await sampleModelFiles(SAMPLE);
  const evils = ['../../../../escape.safetensors', '/etc/evil.safetensors', 'a/../../b.safetensors', 'dir\\..\\x.safetensors'];
  for (const [i, evil] of evils.entries()) {
    const name = `evil/r${i}`;
    hub.addRepo(name, files, { mapTree: (entries) => [...entries, { ...entries.find((e) => e.path === 'model.safetensors')!, path: evil }] });
    const cacheDir = tmp();
    await rejects(run({ repo: name, endpoint: hub.url, cacheDir }), 'format', 'UNSAFE_PATH', new RegExp(`${name}.*refusing repo file path`));
    assert.equal(fs.existsSync(path.join(cacheDir, 'models--' + name.replace('/', '--'), 'snapshots')), false);
  }
});

test('bad input: unknown repo, revision and file, a repo without safetensors, a malformed repo id', async (t) => {
  const hub = await MockHub.start();
  t.after(() => hub.close());
  const files = await sampleModelFiles(SAMPLE);
  hub.addRepo('tiny/ok', files);
  hub.addRepo('tiny/pytorch', { 'config.json': files['config.json'], 'pytorch_model.bin': Buffer.alloc(100, 1) });
  const cacheDir = tmp();
  const o = { endpoint: hub.url, cacheDir, retries: 0 };
  await rejects(run({ ...o, repo: 'tiny/nope', token: 't' }), 'network', 'REPO_NOT_FOUND', /repository tiny\/nope not found/);
  await rejects(run({ ...o, repo: 'tiny/ok', revision: 'no-such-branch' }), 'network', 'REVISION_NOT_FOUND', /revision 'no-such-branch' not found in tiny\/ok/);
  await rejects(run({ ...o, repo: 'tiny/pytorch' }), 'unsupported', 'NO_SAFETENSORS', /tiny\/pytorch: .*no \.safetensors.*pytorch_model\.bin.*--include/);
  // With --include the user asked for the .bin explicitly: allowed.
  const bin = await run({ ...o, repo: 'tiny/pytorch', include: ['*.bin'] });
  assert.deepEqual([...bin.result.files].sort(), ['config.json', 'pytorch_model.bin']);
  await rejects(run({ ...o, repo: 'not-a-repo-id' }), 'usage', 'BAD_HUB_SOURCE', /not-a-repo-id/);
  await rejects(run({ ...o, repo: 'a/b', revision: '../../x' }), 'usage', 'BAD_HUB_SOURCE', /\.\.\/\.\.\/x/);
  // A file listed by the tree but gone from storage: 404 on resolve names repo and file.
  hub.repos.get('tiny/ok')!.opts.mapTree = (e) => [...e, { type: 'file', path: 'ghost.safetensors', oid: 'a'.repeat(40), size: 3, lfs: { oid: 'b'.repeat(64), size: 3, pointerSize: 1 } }];
  const err = await rejects(run({ ...o, repo: 'tiny/ok', cacheDir: tmp() }), 'network', 'FILE_NOT_FOUND', /file ghost\.safetensors not found in tiny\/ok@[0-9a-f]{40}/);
  assert.ok(err instanceof NetworkError && err.status === 404);
});

test('hf: source end to end: pulled into the cache, then converted from it, byte-identical to llama.cpp', async (t) => {
  const convertPath = path.join(import.meta.dirname, '..', 'src', 'pipeline', 'convert.ts');
  if (!fs.existsSync(convertPath)) return t.skip('src/pipeline/convert.ts is not in this tree yet');
  const { convertModel } = (await import(convertPath)) as typeof import('../src/pipeline/convert.ts');
  const hub = await MockHub.start();
  t.after(() => hub.close());
  const files = await sampleModelFiles(SAMPLE);
  const { commit } = hub.addRepo('tiny/stories260K', files);
  const cacheDir = tmp();
  const output = path.join(tmp(), 'out-f32.gguf');
  const events: PipelineEvent[] = [];
  const gen = convertModel({ source: 'hf:tiny/stories260K', fileType: 'f32', output, name: 'stories260K', hub: { endpoint: hub.url, cacheDir } });
  for (let r = await gen.next(); !r.done; r = await gen.next()) events.push(r.value);
  assert.ok(downloads(events).some((e) => e.file === 'model.safetensors' && e.state === 'done'), 'download events pass through the convert pipeline');
  assert.ok(fs.existsSync(path.join(cacheDir, 'models--tiny--stories260K', 'snapshots', commit, 'model.safetensors')));
  assert.ok(fs.readFileSync(output).equals(files['reference-convert-f32.gguf']), 'same bytes as convert_hf_to_gguf.py --outtype f32');
  assert.equal(hub.bytesSent('reference-convert-f32.gguf'), 0, 'the reference was not part of the pull');
});
