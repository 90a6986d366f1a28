// Issue 15, Major 1: the CLI's download progress. On a terminal one redrawn bar per file (bytes,
// MiB/s, ETA) plus a total line; resumes and retries said in words; plain lines when not a TTY.
// The unit test feeds DownloadBar events; the other two run the real binary against the mock Hub
// on 127.0.0.1 (through pipes, and under tmux for the terminal case).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DownloadBar } from '../src/cli/download-bar.ts';
import type { DownloadEvent } from '../src/pipeline/events.ts';
import { MockHub, sampleModelFiles, tempDir } from './support/mock-hub.ts';
import { CLI_COMMAND, TmuxSession, noTmux } from './support/tmux.ts';

const MiB = 1024 * 1024;
const SAMPLE = path.join(import.meta.dirname, '..', 'samples', 'stories260K');

const progress = (done: number, total: number, rate: number) => ({ bytesDone: done, bytesTotal: total, rate, etaSeconds: rate ? (total - done) / rate : null });
const ev = (file: string, state: DownloadEvent['state'], done: number, total: number, extra: Partial<DownloadEvent> = {}): DownloadEvent => ({
  type: 'download', file, state, fileProgress: progress(done, total, 2 * MiB), overall: progress(done, 8 * MiB, 2 * MiB), ...extra,
});

test('DownloadBar on a TTY: a bar per file and a total, redrawn in place; resume, retry and done are permanent lines', () => {
  const out: string[] = [];
  let now = 1000;
  const bar = new DownloadBar({ write: (s: string) => out.push(s), columns: 100 }, true, () => now);
  bar.handle(ev('model.safetensors', 'start', 2 * MiB, 8 * MiB));
  now += 1000;
  bar.handle(ev('model.safetensors', 'progress', 4 * MiB, 8 * MiB));
  bar.handle(ev('model.safetensors', 'retry', 4 * MiB, 8 * MiB, { retry: { attempt: 2, retries: 5, delayMs: 1000, reason: 'connection closed' } }));
  now += 2000;
  bar.handle(ev('model.safetensors', 'done', 8 * MiB, 8 * MiB));
  const text = out.join('');
  assert.match(text, /download model\.safetensors: resuming at 2\.00 MiB of 8\.00 MiB\n/);
  assert.match(text, /  model\.safetensors +█{6}░{6}  50% +4\.00 MiB \/ 8\.00 MiB +2\.00 MiB\/s {2}ETA 2 s\n/);
  assert.match(text, /  total +█{6}░{6}  50% +4\.00 MiB \/ 8\.00 MiB +2\.00 MiB\/s {2}ETA 2 s\n/);
  // The two live lines are erased before anything else is written (cursor up 2, erase below).
  assert.ok(out.includes('\x1b[2A\r\x1b[J'));
  assert.match(text, /download model\.safetensors: retry 2\/5 after 1\.0 s, resuming at 4\.00 MiB of 8\.00 MiB \(connection closed\)\n/);
  assert.match(text, /download model\.safetensors: done · 8\.00 MiB in 3\.0 s\n/);
  assert.match(text, /download: 1 file · 8\.00 MiB in 3\.0 s\n$/);
  assert.ok(text.split('\n').filter((l) => l.startsWith('  ')).every((l) => l.length < 100), 'no live line wider than the terminal');
});

test('DownloadBar off a TTY: no progress lines, only start / resume / retry / done', () => {
  const out: string[] = [];
  const bar = new DownloadBar({ write: (s: string) => out.push(s) }, false, () => 0);
  bar.handle(ev('a.safetensors', 'start', 0, 8 * MiB));
  for (let i = 1; i < 8; i++) bar.handle(ev('a.safetensors', 'progress', i * MiB, 8 * MiB));
  bar.handle(ev('a.safetensors', 'done', 8 * MiB, 8 * MiB));
  assert.deepEqual(out.join('').trim().split('\n'), [
    'download a.safetensors: start (8.00 MiB)',
    'download a.safetensors: done · 8.00 MiB in 0.0 s',
    'download: 1 file · 8.00 MiB in 0.0 s',
  ]);
});

async function hubWithBigModel(): Promise<{ hub: MockHub; big: Buffer }> {
  const hub = await MockHub.start();
  const files = await sampleModelFiles(SAMPLE);
  delete files['reference-convert-f32.gguf'];
  const big = randomBytes(6 * MiB);
  hub.addRepo('forge/big', { ...files, 'model.safetensors': big });
  return { hub, big };
}

const run = (args: string[]) => new Promise<{ code: number; stderr: string }>((resolve) => {
  const [node, bin] = CLI_COMMAND;
  const env = { ...process.env };
  delete env.HF_TOKEN;
  execFile(node!, [bin!, ...args], { env, encoding: 'utf8' }, (err, _stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stderr }));
});

test('pull through a pipe: "resuming at" for a partial file, "retry 1/5 after" for a cut connection, no progress lines', async (t) => {
  const { hub, big } = await hubWithBigModel();
  t.after(() => hub.close());
  const cache = tempDir('download-bar-');
  // A partial download left by an earlier run, where the cache keeps it.
  const blobs = path.join(cache, 'models--forge--big', 'blobs');
  fs.mkdirSync(blobs, { recursive: true });
  fs.writeFileSync(path.join(blobs, `${createHash('sha256').update(big).digest('hex')}.incomplete`), big.subarray(0, MiB));
  hub.faults.cutAfter.set('model.safetensors', 2 * MiB);
  const r = await run(['pull', 'hf:forge/big', '--endpoint', hub.url, '--cache-dir', cache]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^download model\.safetensors: resuming at 1\.00 MiB of 6\.00 MiB$/m);
  assert.match(r.stderr, /^download model\.safetensors: retry 1\/5 after 0\.5 s, resuming at 3\.00 MiB of 6\.00 MiB \(connection to the Hub failed \(\w+\)\)$/m);
  assert.match(r.stderr, /^download model\.safetensors: done · 6\.00 MiB in \d+\.\d s$/m);
  assert.match(r.stderr, /^download config\.json: (start|done)/m);
  assert.doesNotMatch(r.stderr, /%|\x1b\[/);
});

test('pull in a terminal (tmux): live bars with bytes, MiB/s and ETA, then the permanent lines', { skip: noTmux, timeout: 120_000 }, async (t) => {
  const { hub } = await hubWithBigModel();
  t.after(() => hub.close());
  const cache = tempDir('download-bar-tty-');
  hub.faults.cutAfter.set('model.safetensors', MiB);
  hub.faults.slow.set('model.safetensors', 1.5 * MiB);
  const s = new TmuxSession({ cwd: cache, columns: 100, rows: 24, args: ['pull', 'hf:forge/big', '--endpoint', hub.url, '--cache-dir', cache], after: 'sleep 30' });
  try {
    await s.waitFor(/retry 1\/5 after 0\.5 s, resuming at 1\.00 MiB of 6\.00 MiB \(connection to the Hub failed/, 30_000);
    // After the retry, the bar moves on from 1 MiB at the throttled rate.
    const live = await s.waitFor(/model\.safetensors +█+░+ +\d+% +[2-5]\.\d\d MiB \/ 6\.00 MiB +\d+\.\d\d MiB\/s {2}ETA \d+ s/, 30_000);
    assert.match(live, / total +█*░+ +\d+% +\d+\.\d\d MiB \/ 6\.\d\d MiB +\d+\.\d\d MiB\/s {2}ETA \d+ s/);
    const end = await s.waitFor(/snapshot: /, 60_000);
    assert.match(end, /download model\.safetensors: done · 6\.00 MiB in \d+\.\d s/);
    assert.match(end, /download: \d+ files · 6\.\d\d MiB in \d+\.\d s/);
    // The live block is gone: no bar is left on the screen once the pull is done.
    assert.doesNotMatch(end, /█|░/);
    if (process.env.GGUF_FORGE_CAPTURE) fs.writeFileSync(process.env.GGUF_FORGE_CAPTURE, `${live}\n----\n${end}`);
  } finally {
    s.kill();
  }
});
