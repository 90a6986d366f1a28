/**
 * Issue 17, items 5, 6, 7, 9 and 11: what interrupted or concurrent runs leave behind, and the
 * messages and exit codes they end with. Real processes, real signals, real file systems.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { convertModel } from '../src/pipeline/convert.ts';
import { runAwqGptqConvert } from './support/run-job.ts';
import { linkSnapshotFile, repoCache } from '../src/hub/cache-layout.ts';
import { pullModel } from '../src/hub/pull.ts';
import { writeFileAtomic } from '../formats/io/atomic-file.ts';
import { ForgeError, IoError } from '../formats/errors.ts';
import { MockHub, sampleModelFiles } from './support/mock-hub.ts';
import { runJob } from './support/run-job.ts';
import type { WarningEvent } from '../src/pipeline/events.ts';

const ROOT = join(import.meta.dirname, '..');
const STORIES = join(ROOT, 'samples', 'stories260K');
const tmp = (p: string) => mkdtempSync(join(tmpdir(), `gguf-forge-${p}-`));

/** A pid that certainly ran and has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  return r.pid!;
}

test('item 5: temps of killed runs for the same output are removed with a warning; a live one is never touched', async (t) => {
  const dir = tmp('stale');
  const live = spawn('sleep', ['60']);
  t.after(() => { live.kill(); rmSync(dir, { recursive: true, force: true }); });
  const dead = deadPid();
  const staleFile = join(dir, `.out.gguf.${dead}-aaaaaaaaaaaa.tmp`);
  const liveFile = join(dir, `.out.gguf.${live.pid}-bbbbbbbbbbbb.tmp`);
  const otherOutput = join(dir, `.other.gguf.${dead}-cccccccccccc.tmp`);
  const staleDir = join(dir, `.awq.${dead}-dddddddddddd.tmp`);
  writeFileSync(staleFile, Buffer.alloc(4096));
  writeFileSync(liveFile, 'being written');
  writeFileSync(otherOutput, 'not this output');
  mkdirSync(staleDir);
  writeFileSync(join(staleDir, 'model.safetensors'), 'half');

  const { events } = await runJob(convertModel({ source: STORIES, fileType: 'q8_0', threads: 1, output: join(dir, 'out.gguf') }));
  const warnings = events.filter((e): e is WarningEvent => e.type === 'warning' && e.code === 'STALE_TEMP_REMOVED');
  assert.deepEqual(warnings.map((w) => w.file), [staleFile]);
  assert.match(warnings[0]!.message, /no longer runs/);
  assert.equal(existsSync(staleFile), false);
  assert.equal(readFileSync(liveFile, 'utf8'), 'being written', 'a live process keeps its temp');
  assert.ok(existsSync(otherOutput), 'temps of other outputs are not ours to remove');

  const awqEvents: WarningEvent[] = [];
  await runAwqGptqConvert({ source: STORIES, output: join(dir, 'awq'), method: 'awq', algorithm: 'rtn', groupSize: 64, keepUnaligned: true, validate: false },
    (e) => { if (e.type === 'warning' && e.code === 'STALE_TEMP_REMOVED') awqEvents.push(e); });
  assert.deepEqual(awqEvents.map((w) => w.file), [staleDir]);
  assert.deepEqual(readdirSync(dir).sort(), ['.other.gguf.' + dead + '-cccccccccccc.tmp', `.out.gguf.${live.pid}-bbbbbbbbbbbb.tmp`, 'awq', 'out.gguf'].sort());
});

test('item 5: a temp name carries the pid of the process writing it', async () => {
  const dir = tmp('pid');
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/support/signal-child.ts'), join(dir, 'x.gguf')], { cwd: ROOT });
  const [line] = await once(child.stdout, 'data');
  assert.match(String(line), new RegExp(`READY .*/\\.x\\.gguf\\.${child.pid}-[0-9a-f]{12}\\.tmp`));
  child.kill('SIGKILL');
  await once(child, 'exit');
  assert.equal(readdirSync(dir).length, 1, 'kill -9 leaves the temp (nothing can remove it then)...');
  await writeFileAtomic(join(dir, 'x.gguf'), 'next run');
  assert.deepEqual(readdirSync(dir), ['x.gguf'], '...and the next run for the same output removes it');
  rmSync(dir, { recursive: true, force: true });
});

test('item 6: concurrent pulls into one cache all succeed; an existing correct link is success', async (t) => {
  const cacheDir = tmp('race');
  t.after(() => rmSync(cacheDir, { recursive: true, force: true }));
  const c = repoCache(cacheDir, 'o/m');
  const etag = 'e'.repeat(40);
  mkdirSync(c.blobsDir, { recursive: true });
  writeFileSync(join(c.blobsDir, etag), 'x');
  const links = await Promise.all(Array.from({ length: 24 }, () => linkSnapshotFile(c, 'a'.repeat(40), 'sub/tokenizer_config.json', etag)));
  assert.equal(new Set(links).size, 1);
  assert.equal(readlinkSync(links[0]!), join('..', '..', '..', 'blobs', etag));
  assert.deepEqual(readdirSync(join(c.snapshotsDir, 'a'.repeat(40), 'sub')), ['tokenizer_config.json'], 'no temporary link left');

  const hub = await MockHub.start();
  t.after(() => hub.close());
  hub.addRepo('tiny/stories', await sampleModelFiles(STORIES));
  for (let round = 0; round < 3; round++) {
    const dir = join(cacheDir, `round-${round}`);
    const results = await Promise.allSettled(Array.from({ length: 3 }, () => runJob(pullModel({ repo: 'tiny/stories', endpoint: hub.url, cacheDir: dir }))));
    for (const r of results) assert.equal(r.status, 'fulfilled', r.status === 'rejected' ? String(r.reason) : '');
  }
});

test('item 7: a report is replaced whole or not at all, even when the disk fills', async () => {
  const dir = tmp('report');
  const report = join(dir, 'report.json');
  writeFileSync(report, '{"complete": true, "old": 1}\n');
  // RLIMIT_FSIZE makes the write fail part-way with EFBIG, as a full disk does with ENOSPC.
  const script = `import { writeFileAtomic } from ${JSON.stringify(join(ROOT, 'formats/io/atomic-file.ts'))};
    try { await writeFileAtomic(${JSON.stringify(report)}, JSON.stringify({ complete: true, pad: 'x'.repeat(200000) })); process.exit(0); }
    catch (e) { console.log(e.name, e.code, e.message); process.exit(7); }`;
  const r = spawnSync('bash', ['-c', `ulimit -f 16; exec "${process.execPath}" --import tsx --input-type=module -e "$0"`, script], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 7, r.stderr);
  assert.match(r.stdout, /IoError/);
  assert.equal(readFileSync(report, 'utf8'), '{"complete": true, "old": 1}\n', 'the old report is untouched');
  assert.deepEqual(readdirSync(dir), ['report.json'], 'no truncated temp left');

  const out = join(dir, 'm.gguf');
  await runJob(convertModel({ source: STORIES, fileType: 'q8_0', threads: 1, output: out, reportPath: report, force: true }));
  const doc = JSON.parse(readFileSync(report, 'utf8'));
  assert.equal(doc.complete, true);
  assert.equal(doc.output, out);
  assert.deepEqual(readdirSync(dir).sort(), ['m.gguf', 'report.json']);
  rmSync(dir, { recursive: true, force: true });
});

for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
  test(`item 9: ${signal} stops through the clean path: temp removed, exit ${code}`, async () => {
    const dir = tmp('signal');
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/support/signal-child.ts'), join(dir, 'out.gguf')], { cwd: ROOT });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const [line] = await once(child.stdout, 'data');
    const tmpPath = String(line).trim().replace(/^READY /, '');
    assert.ok(existsSync(tmpPath));
    child.kill(signal);
    const [exitCode, bySignal] = await once(child, 'exit');
    assert.equal(bySignal, null, 'the process exits by itself, not by the signal');
    assert.equal(exitCode, code, stderr);
    assert.match(stderr, signal === 'SIGTERM' ? /terminated \(SIGTERM\)/ : /cancelled/);
    assert.deepEqual(readdirSync(dir), [], 'the temporary output is removed');
    rmSync(dir, { recursive: true, force: true });
  });
}

/** A read-only folder: a read-only tmpfs when we may mount one, else a folder without write permission. */
function readOnlyFolder(): { dir: string; how: string; cleanup: () => void } | { skip: string } {
  const dir = tmp('rocache');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', dir], { stdio: 'ignore' });
    return { dir, how: 'read-only file system', cleanup: () => { execFileSync('umount', [dir]); rmSync(dir, { recursive: true, force: true }); } };
  } catch {
    if (process.getuid?.() === 0) return { skip: 'running as root without permission to mount: no way to make a read-only folder' };
    chmodSync(dir, 0o555);
    return { dir, how: 'permission denied', cleanup: () => { chmodSync(dir, 0o755); rmSync(dir, { recursive: true, force: true }); } };
  }
}

test('item 11: a read-only cache is named as such, not "no such file or directory"', async (t) => {
  const ro = readOnlyFolder();
  if ('skip' in ro) return t.skip(ro.skip);
  t.after(ro.cleanup);
  const hub = await MockHub.start();
  t.after(() => hub.close());
  hub.addRepo('tiny/stories', await sampleModelFiles(STORIES));
  const cacheDir = join(ro.dir, 'hub');
  await assert.rejects(runJob(pullModel({ repo: 'tiny/stories', endpoint: hub.url, cacheDir })), (e: unknown) => {
    assert.ok(e instanceof IoError, String(e));
    assert.equal(e.code, 'CACHE_READ_ONLY');
    assert.ok(e.message.includes(`the Hugging Face cache ${cacheDir} is read-only (${ro.how})`), e.message);
    assert.doesNotMatch(e.message, /no such file/);
    return true;
  });
  void ForgeError;
});
