import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { pullModel, type PullOptions, type PullResult } from '../src/hub/pull.ts';
import type { PipelineEvent } from '../src/pipeline/events.ts';
import { ForgeError } from '../formats/errors.ts';
import { MockHub, sampleModelFiles, tempDir } from './support/mock-hub.ts';
import { rejectsWith as rejects } from './support/forge-error.ts';
import { runPull as run } from './support/pull-job.ts';

const SAMPLE = path.join(import.meta.dirname, '..', 'samples', 'stories260K');
const tmp = () => tempDir('hub-faults-');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const gitSha1 = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

async function setup(t: { after(fn: () => unknown): void }, repo: string, opts = {}) {
  const hub = await MockHub.start();
  t.after(() => hub.close());
  const files = await sampleModelFiles(SAMPLE);
  const { commit } = hub.addRepo(repo, files, opts);
  const cacheDir = tmp();
  const repoDir = path.join(cacheDir, 'models--' + repo.replace('/', '--'));
  return { hub, files, commit, cacheDir, repoDir, weights: files['model.safetensors'] };
}

test('a connection cut mid-file is resumed by the next run with a Range request, re-sending fewer bytes than the file', async (t) => {
  const { hub, cacheDir, repoDir, weights } = await setup(t, 'cut/across-runs');
  const cut = 400_000;
  hub.faults.cutAfter.set('model.safetensors', cut);
  await rejects(run({ repo: 'cut/across-runs', endpoint: hub.url, cacheDir, retries: 0 }), 'network', 'CONNECTION', /cut\/across-runs.*model\.safetensors/);
  const part = path.join(repoDir, 'blobs', sha256(weights) + '.incomplete');
  assert.equal(fs.statSync(part).size, cut, 'the partial download is kept across runs');
  assert.equal(fs.existsSync(path.join(repoDir, 'blobs', sha256(weights))), false);

  const sentBefore = hub.bytesSent('model.safetensors');
  const { result } = await run({ repo: 'cut/across-runs', endpoint: hub.url, cacheDir });
  const resent = hub.bytesSent('model.safetensors') - sentBefore;
  assert.equal(resent, weights.length - cut, 'only the missing tail was sent');
  assert.ok(resent < weights.length);
  assert.ok(hub.stats.requests.some((r) => r.range === `bytes=${cut}-`), 'resumed with a Range request');
  assert.ok(fs.readFileSync(path.join(result.snapshotDir, 'model.safetensors')).equals(weights));
  assert.equal(fs.existsSync(part), false);
});

test('a cut connection is retried within the same run from where it stopped', async (t) => {
  const { hub, cacheDir, weights } = await setup(t, 'cut/same-run');
  hub.faults.cutAfter.set('model.safetensors', 123_457);
  hub.faults.cutAfter.set('tokenizer.json', 5_000);
  const { result, events } = await run({ repo: 'cut/same-run', endpoint: hub.url, cacheDir });
  assert.equal(hub.bytesSent('model.safetensors'), weights.length, 'no byte of the weights was sent twice');
  assert.ok(fs.readFileSync(path.join(result.snapshotDir, 'model.safetensors')).equals(weights));
  const done = events.find((e) => e.type === 'download' && e.file === 'model.safetensors' && e.state === 'done');
  assert.ok(done && done.type === 'download' && done.fileProgress.bytesDone === weights.length);
});

test('a connection that goes silent mid-file is dropped after the stall timeout and resumed', async (t) => {
  const { hub, cacheDir, weights } = await setup(t, 'cut/stall');
  hub.faults.stallAfter.set('model.safetensors', 200_000);
  const { result } = await run({ repo: 'cut/stall', endpoint: hub.url, cacheDir, stallTimeoutMs: 1000 });
  assert.equal(hub.bytesSent('model.safetensors'), weights.length, 'resumed after the stalled bytes, none sent twice');
  assert.ok(hub.stats.requests.some((r) => r.range === 'bytes=200000-'));
  assert.ok(fs.readFileSync(path.join(result.snapshotDir, 'model.safetensors')).equals(weights));
});

test('a server that ignores Range on resume: the partial is discarded and the file still verifies', async (t) => {
  const { hub, cacheDir, weights } = await setup(t, 'cut/no-range');
  hub.faults.cutAfter.set('model.safetensors', 300_000);
  hub.faults.ignoreRange.add('model.safetensors');
  const { result } = await run({ repo: 'cut/no-range', endpoint: hub.url, cacheDir });
  assert.equal(hub.bytesSent('model.safetensors'), 300_000 + weights.length);
  assert.ok(fs.readFileSync(path.join(result.snapshotDir, 'model.safetensors')).equals(weights));
});

test('corrupted bytes: sha mismatch, nothing published, the partial file is gone', async (t) => {
  for (const file of ['model.safetensors', 'config.json']) {
    const { hub, cacheDir, repoDir, files } = await setup(t, 'bad/corrupt');
    hub.faults.corrupt.add(file);
    const algo = file === 'config.json' ? 'git blob sha1' : 'sha256';
    const etag = file === 'config.json' ? gitSha1(files[file]) : sha256(files[file]);
    await rejects(
      run({ repo: 'bad/corrupt', endpoint: hub.url, cacheDir, concurrency: 1 }),
      'network', 'HASH_MISMATCH',
      new RegExp(`bad/corrupt@[0-9a-f]{40}: ${file.replace('.', '\\.')}: downloaded bytes fail verification \\(${algo} [0-9a-f]+, expected ${etag}\\)`),
    );
    const blobs = fs.readdirSync(path.join(repoDir, 'blobs'));
    assert.ok(!blobs.includes(etag), 'the bad blob is not published');
    assert.ok(!blobs.includes(etag + '.incomplete'), 'the partial file is deleted');
    const snap = path.join(repoDir, 'snapshots');
    const links = fs.existsSync(snap) ? fs.readdirSync(snap, { recursive: true }).map(String) : [];
    assert.ok(!links.some((l) => l.endsWith(file)), 'no snapshot link to it');
    assert.equal(fs.existsSync(path.join(repoDir, 'refs', 'main')), false, 'a failed pull writes no ref');
  }
});

test('401 on a gated repo without a token; the token opens it', async (t) => {
  const { hub, cacheDir, weights } = await setup(t, 'gated/model', { gatedToken: 'hf_secret_abc' });
  const err = await rejects(run({ repo: 'gated/model', endpoint: hub.url, cacheDir }), 'network', 'UNAUTHORIZED', /gated\/model.*HTTP 401.*gated or private.*HF_TOKEN/);
  assert.ok(!err.message.includes('hf_secret_abc'));
  await rejects(run({ repo: 'gated/model', endpoint: hub.url, cacheDir, token: 'hf_wrong' }), 'network', 'UNAUTHORIZED', /401/);
  process.env.HF_TOKEN = 'hf_secret_abc';
  try {
    const { result } = await run({ repo: 'gated/model', endpoint: hub.url, cacheDir });
    assert.ok(fs.readFileSync(path.join(result.snapshotDir, 'model.safetensors')).equals(weights));
  } finally {
    delete process.env.HF_TOKEN;
  }
});

test('500 then success on retry, for the API and for a file; persistent 500s fail with a NetworkError', async (t) => {
  const { hub, cacheDir, weights } = await setup(t, 'flaky/model');
  hub.faults.status.set('revision', { status: 503, times: 2 });
  hub.faults.status.set('tree', { status: 500, times: 1 });
  hub.faults.status.set('model.safetensors', { status: 500, times: 2 });
  const { result } = await run({ repo: 'flaky/model', endpoint: hub.url, cacheDir });
  assert.ok(fs.readFileSync(path.join(result.snapshotDir, 'model.safetensors')).equals(weights));
  for (const f of hub.faults.status.values()) assert.equal(f.times, 0, 'every injected failure was hit');

  hub.faults.status.set('config.json', { status: 502, times: 100 });
  await rejects(run({ repo: 'flaky/model', endpoint: hub.url, cacheDir: tmp(), retries: 2 }), 'network', 'HTTP_5XX', /flaky\/model@[0-9a-f]+: config\.json: the Hub answered HTTP 502/);
  assert.equal(hub.faults.status.get('config.json')!.times, 97, 'one attempt plus two retries');
});

test('a Hub that cannot be reached: a NetworkError naming the repo, or the cached snapshot with a warning', async (t) => {
  const { hub, cacheDir, commit } = await setup(t, 'down/model');
  const url = hub.url;
  const first = await run({ repo: 'down/model', endpoint: url, cacheDir });
  await hub.close();
  await rejects(run({ repo: 'down/model', endpoint: url, cacheDir: tmp(), retries: 1 }), 'network', 'CONNECTION', /down\/model@main: connection to the Hub failed/);
  const { events, result } = await run({ repo: 'down/model', endpoint: url, cacheDir, retries: 1 });
  assert.equal(result.commit, commit);
  assert.equal(result.snapshotDir, first.result.snapshotDir);
  const warning = events.find((e) => e.type === 'warning');
  assert.ok(warning && warning.type === 'warning' && warning.code === 'HUB_UNREACHABLE' && /using the cached snapshot/.test(warning.message));
});

test('a full disk (ENOSPC from the kernel via /dev/full) is an IoError naming the file; nothing is published', async (t) => {
  // Honest ENOSPC without a tiny tmpfs (which needs mount privileges): the partial download
  // path is a symlink to /dev/full, where every write fails with ENOSPC.
  if (!fs.existsSync('/dev/full')) return t.skip('/dev/full is not available on this OS');
  const { hub, cacheDir, repoDir, weights } = await setup(t, 'disk/full');
  const blobs = path.join(repoDir, 'blobs');
  fs.mkdirSync(blobs, { recursive: true });
  const part = path.join(blobs, sha256(weights) + '.incomplete');
  fs.symlinkSync('/dev/full', part);
  await rejects(run({ repo: 'disk/full', endpoint: hub.url, cacheDir }), 'io', 'ENOSPC', new RegExp(`cannot write ${part.replace(/[.]/g, '\\.')}: no space left on device`));
  assert.equal(fs.existsSync(path.join(blobs, sha256(weights))), false);
});

test('a cache directory that cannot be created is an IoError naming it', async (t) => {
  const { hub } = await setup(t, 'perm/model');
  const root = tmp();
  let cacheDir: string;
  if (process.getuid?.() === 0) {
    // root ignores chmod, so make the cache path's parent a regular file: mkdir fails for anyone.
    fs.writeFileSync(path.join(root, 'not-a-dir'), 'x');
    cacheDir = path.join(root, 'not-a-dir', 'hub');
  } else {
    fs.mkdirSync(path.join(root, 'ro'), { mode: 0o500 });
    cacheDir = path.join(root, 'ro', 'hub');
  }
  const err = await rejects(run({ repo: 'perm/model', endpoint: hub.url, cacheDir }), 'io', process.getuid?.() === 0 ? 'ENOTDIR' : 'EACCES', /cannot create cache directory .*models--perm--model/);
  assert.ok(err.message.includes(cacheDir));
  assert.equal(hub.stats.requests.length, 0, 'fails before touching the network');
});

test('an AbortSignal cancels the pull and publishes nothing', async (t) => {
  const { hub, cacheDir, repoDir, weights } = await setup(t, 'stop/model');
  const controller = new AbortController();
  const gen = pullModel({ repo: 'stop/model', endpoint: hub.url, cacheDir, signal: controller.signal, concurrency: 1 });
  await rejects(
    (async () => {
      for await (const ev of gen) if (ev.type === 'phase' && ev.phase === 'download') controller.abort();
    })(),
    'cancelled', 'CANCELLED', /cancelled/,
  );
  assert.equal(fs.existsSync(path.join(repoDir, 'blobs', sha256(weights))), false);
  assert.equal(fs.existsSync(path.join(repoDir, 'refs', 'main')), false);
});

test('two pulls of the same model at once: one downloads each blob, the other waits and reuses it', async (t) => {
  const { hub, cacheDir, weights } = await setup(t, 'two/at-once');
  // Pull A stalls mid-file for the stall timeout, so pull B certainly arrives while A holds the blob.
  hub.faults.stallAfter.set('model.safetensors', 200_000);
  const opts = { repo: 'two/at-once', endpoint: hub.url, cacheDir, stallTimeoutMs: 800 };
  const [a, b] = await Promise.all([run(opts), run(opts)]);
  assert.equal(a.result.snapshotDir, b.result.snapshotDir);
  assert.equal(hub.bytesSent('model.safetensors'), weights.length, 'the weights were sent once, not once per pull');
  assert.ok(fs.readFileSync(path.join(a.result.snapshotDir, 'model.safetensors')).equals(weights));
  const states = [a, b].map((r) => r.events.find((e) => e.type === 'download' && e.file === 'model.safetensors' && (e.state === 'done' || e.state === 'cached')));
  assert.deepEqual(states.map((e) => e?.type === 'download' && e.state).sort(), ['cached', 'done']);
  // The stalled pull said it would retry (and from where) before resuming.
  const retry = [a, b].flatMap((r) => r.events).find((e) => e.type === 'download' && e.state === 'retry');
  assert.ok(retry?.type === 'download' && retry.retry?.attempt === 1 && retry.fileProgress.bytesDone === 200_000, JSON.stringify(retry));
});

test('a lock left by a dead process is taken over', async (t) => {
  const { hub, cacheDir, weights } = await setup(t, 'stale/lock');
  const { spawnSync } = await import('node:child_process');
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const lockDir = path.join(cacheDir, '.locks', 'models--stale--lock');
  fs.mkdirSync(lockDir, { recursive: true });
  fs.writeFileSync(path.join(lockDir, `${sha256(weights)}.gguf-forge.lock`), `${dead.stdout} x`);
  const { result } = await run({ repo: 'stale/lock', endpoint: hub.url, cacheDir });
  assert.ok(fs.readFileSync(path.join(result.snapshotDir, 'model.safetensors')).equals(weights));
  assert.deepEqual(fs.readdirSync(lockDir), [], 'locks are released');
});

test('the first failing file stops the other downloads at once, leaving their partial files resumable', async (t) => {
  const { hub, cacheDir, repoDir, weights } = await setup(t, 'stop/first-failure');
  hub.faults.corrupt.add('config.json');
  hub.faults.stallAfter.set('model.safetensors', 100_000);
  await rejects(run({ repo: 'stop/first-failure', endpoint: hub.url, cacheDir, concurrency: 4, stallTimeoutMs: 20_000 }), 'network', 'HASH_MISMATCH', /config\.json/);
  const blobs = path.join(repoDir, 'blobs');
  assert.equal(fs.existsSync(path.join(blobs, sha256(weights))), false, 'the stalled download was cancelled, not waited for');
  assert.equal(fs.statSync(path.join(blobs, sha256(weights) + '.incomplete')).size, 100_000, 'its partial file is kept for the next run');
});
