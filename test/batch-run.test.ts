// `gguf-forge batch` end to end through the real CLI on the bundled sample: mixed good and bad
// jobs (exit code, report, valid outputs), JSONL events, resume after killing the batch midway,
// and --shard runs that together produce every output exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readGguf } from '../formats/gguf/reader.ts';
import { EXIT_CODES } from '../src/cli/exit-codes.ts';
import { ensureSamples, SAMPLE as GENERATED } from '../samples/lib/index.ts';
import { runCli as run, spawnCli } from './support/cli.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const SAMPLE = path.join(ROOT, 'samples/stories260K');

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gguf-forge-batch-'));
}

function runCli(cwd: string, args: string[]) {
  const r = run(args, { cwd });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function assertValidGguf(file: string, tensors = 47) {
  const g = await readGguf(file);
  assert.equal(g.tensors.length, tensors, file);
}

test('mixed good and bad jobs: the good ones complete, the bad ones are reported, exit code is the first failure\'s', async () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'jobs.yaml'), [
    'defaults:',
    '  output: "out/{name}-{type}.gguf"',
    'jobs:',
    `  - source: ${SAMPLE}`,
    '    types: [q8_0, q4_0]',
    '  - source: missing-model',
    '    type: q8_0',
    `  - source: ${SAMPLE}`,
    '    type: q5_K_M',
    '    name: story',
  ].join('\n'));
  const r = runCli(dir, ['batch', 'jobs.yaml', '--concurrency', '2', '--report', 'batch.json']);
  assert.equal(r.code, EXIT_CODES.usage, r.stderr);
  // Summary table on stdout, progress on stderr.
  assert.match(r.stdout, /^#\s+source\s+type\s+status/m);
  assert.match(r.stdout, /4 jobs: 3 done, 1 failed, 0 skipped, 0 cancelled/);
  assert.match(r.stdout, /missing-model\s+q8_0\s+failed \(usage\)/);
  assert.match(r.stderr, /job 3 .*missing-model → q8_0: FAILED: model folder not found: .*missing-model/);
  const report = JSON.parse(fs.readFileSync(path.join(dir, 'batch.json'), 'utf8'));
  assert.deepEqual(report.jobs.map((j: { status: string }) => j.status), ['done', 'done', 'failed', 'done']);
  assert.deepEqual(report.counts, { done: 3, failed: 1, skipped: 0, cancelled: 0 });
  assert.equal(report.exitCode, EXIT_CODES.usage);
  assert.equal(report.jobs[2].error.kind, 'usage');
  for (const name of ['stories260K-Q8_0.gguf', 'stories260K-Q4_0.gguf', 'story-Q5_K_M.gguf']) {
    const out = path.join(dir, 'out', name);
    await assertValidGguf(out);
    const marker = JSON.parse(fs.readFileSync(out + '.report.json', 'utf8'));
    assert.equal(marker.complete, true);
    assert.equal(marker.outputBytes, fs.statSync(out).size);
  }
  assert.ok(!fs.existsSync(path.join(dir, 'out', 'missing-model-Q8_0.gguf')));
  // No temporary files left behind.
  assert.deepEqual(fs.readdirSync(path.join(dir, 'out')).filter((f) => f.endsWith('.tmp')), []);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('--fail-fast stops after the first failure; a usage error in the batch file exits 2 naming the line', () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'jobs.yaml'), `jobs:\n  - source: nope\n    type: q8_0\n  - source: ${SAMPLE}\n    types: [q8_0, q4_0]\n`);
  const r = runCli(dir, ['batch', 'jobs.yaml', '--fail-fast', '--json']);
  assert.equal(r.code, EXIT_CODES.usage);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.ok, false);
  assert.deepEqual(doc.result.jobs.map((j: { status: string }) => j.status), ['failed', 'cancelled', 'cancelled']);
  assert.ok(!fs.existsSync(path.join(dir, 'stories260K-Q8_0.gguf')));

  fs.writeFileSync(path.join(dir, 'bad.yaml'), `jobs:\n  - source: a\n    types: [q8_0]\n  - source: b\n    types: [q8_0]\n    colour: red\n`);
  const bad = runCli(dir, ['batch', 'bad.yaml']);
  assert.equal(bad.code, EXIT_CODES.usage);
  assert.match(bad.stderr, /bad\.yaml:6: unknown key 'colour'/);
  assert.equal(bad.stdout, '');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('--jsonl: every stdout line is one JSON event, tagged with its job, ending with done and the batch result', () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'jobs.json'), JSON.stringify({ jobs: [{ source: SAMPLE, types: ['q8_0'] }, { source: 'gone', types: ['f16'] }] }));
  const r = runCli(dir, ['batch', 'jobs.json', '--jsonl']);
  assert.equal(r.code, EXIT_CODES.usage, 'a missing source is a usage error: ' + r.stderr);
  const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const jobEvents = events.filter((e) => e.type === 'job').map((e) => `${e.job.id}:${e.state}`);
  assert.deepEqual(jobEvents, ['1:start', '1:done', '2:start', '2:failed']);
  const tensorsDone = events.filter((e) => e.type === 'tensor' && e.state === 'done');
  assert.equal(tensorsDone.length, 47);
  assert.ok(tensorsDone.every((e) => e.job === 1));
  const q8 = tensorsDone.filter((e) => e.targetType === 'Q8_0');
  assert.ok(q8.length > 30 && q8.every((e) => typeof e.metrics?.rmse === 'number'));
  const last = events.at(-1);
  assert.equal(last.type, 'done', 'the stream ends with done, like every command');
  assert.deepEqual(last.summary.counts, { done: 1, failed: 1, skipped: 0, cancelled: 0 });
  fs.rmSync(dir, { recursive: true, force: true });
});

test('resume: kill the batch after its first job completes, rerun with --skip-existing, finished jobs are skipped and the rest done', async () => {
  const dir = tempDir();
  const types = ['q8_0', 'q4_0', 'q5_0', 'q4_1', 'f16'];
  fs.writeFileSync(path.join(dir, 'jobs.yaml'), `jobs:\n  - source: ${SAMPLE}\n    types: [${types.join(', ')}]\n`);
  const outputs = types.map((t) => path.join(dir, `stories260K-${t.toUpperCase()}.gguf`));
  const child = spawnCli(['batch', 'jobs.yaml', '--jsonl', '--threads', '1'], { cwd: dir });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, sig) => resolve(sig ? null : code)));
  let buf = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no job finished within 90 s')), 90_000);
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n').slice(0, -1).map((l) => JSON.parse(l));
      if (lines.some((e) => e.type === 'job' && e.state === 'done')) {
        clearTimeout(timer);
        child.kill('SIGKILL');
        resolve();
      }
    });
    child.on('exit', () => { clearTimeout(timer); resolve(); });
  });
  assert.equal(await exited, null, 'the batch was killed, not finished');
  const completeBefore = outputs.filter((o) => fs.existsSync(o + '.report.json'));
  assert.ok(completeBefore.includes(outputs[0]!), 'job 1 completed before the kill');
  assert.ok(completeBefore.length < outputs.length, 'the kill landed before the last job');

  const r = runCli(dir, ['batch', 'jobs.yaml', '--skip-existing', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  const skipped = doc.result.jobs.filter((j: { status: string }) => j.status === 'skipped').map((j: { output: string }) => j.output);
  const done = doc.result.jobs.filter((j: { status: string }) => j.status === 'done').map((j: { output: string }) => j.output);
  assert.deepEqual(skipped, completeBefore);
  assert.deepEqual([...skipped, ...done].sort(), [...outputs].sort());
  for (const o of outputs) await assertValidGguf(o);

  // A marker whose output was replaced (size differs) is not trusted: that job is redone.
  fs.writeFileSync(outputs[1]!, 'not a gguf');
  const again = runCli(dir, ['batch', 'jobs.yaml', '--skip-existing', '--json']);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(JSON.parse(again.stdout).result.jobs.map((j: { status: string }) => j.status), ['skipped', 'done', 'skipped', 'skipped', 'skipped']);
  await assertValidGguf(outputs[1]!);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('--shard i/n run as separate processes writes every output exactly once', async () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'jobs.yaml'), `defaults:\n  output: "{index}-{type}.gguf"\njobs:\n  - source: ${SAMPLE}\n    types: [q8_0, q4_0, q5_1, f32, bf16]\n`);
  const all = JSON.parse(runCli(dir, ['batch', 'jobs.yaml', '--dry-run', '--json']).stdout).result.jobs.map((j: { output: string }) => j.output);
  assert.equal(all.length, 5);
  const written: string[] = [];
  for (let i = 1; i <= 3; i++) {
    const r = runCli(dir, ['batch', 'jobs.yaml', '--shard', `${i}/3`, '--json', '--concurrency', '2']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.deepEqual(doc.result.shard, { index: i, count: 3 });
    assert.equal(doc.result.totalJobs, 5);
    for (const j of doc.result.jobs) {
      assert.equal(j.status, 'done');
      written.push(j.output);
    }
  }
  assert.deepEqual([...written].sort(), [...all].sort());
  assert.equal(new Set(written).size, 5);
  for (const o of all) await assertValidGguf(o);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('Ctrl-C (SIGINT) cancels the batch cleanly: exit 130, cancelled jobs leave no output and no temporary file', async () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'jobs.yaml'), `jobs:\n  - source: ${SAMPLE}\n    types: [q8_0, q4_0, q5_0]\n`);
  const child = spawnCli(['batch', 'jobs.yaml', '--jsonl', '--report', 'batch.json'], { cwd: dir });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let buf = '';
  let sent = false;
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    // Interrupt as soon as the first tensor of any job is written: mid-job.
    if (!sent && /"type":"tensor","state":"done"/.test(buf)) {
      sent = true;
      child.kill('SIGINT');
    }
  });
  assert.equal(await exited, EXIT_CODES.cancelled);
  const events = buf.trim().split('\n').map((l) => JSON.parse(l));
  const last = events.at(-1);
  assert.equal(last.type, 'done');
  const result = last.summary;
  assert.equal(result.exitCode, EXIT_CODES.cancelled);
  const cancelled = result.jobs.filter((j: { status: string }) => j.status === 'cancelled');
  assert.ok(cancelled.length >= 1, JSON.stringify(result.jobs));
  for (const j of cancelled) {
    assert.ok(!fs.existsSync(j.output), `${j.output} must not exist`);
    assert.ok(!fs.existsSync(j.output + '.report.json'));
  }
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'batch.json'), 'utf8')).counts.cancelled, cancelled.length);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('AWQ/GPTQ jobs write checkpoint folders ({name}-{type} by default) with their options, and resume like GGUF jobs', async () => {
  const dir = tempDir();
  const tiny = path.join(await ensureSamples(), GENERATED.llama.f32);
  fs.writeFileSync(path.join(dir, 'jobs.yaml'), [
    'jobs:',
    `  - source: ${tiny}`,
    '    types: [awq, gptq]',
    '    groupSize: 64',
    '    method: rtn', // a layout test: calibrating 128 × 512 default samples is the calibration tests' job
    `  - source: ${SAMPLE}`,
    '    type: gptq',
    '    bits: 8',
    '    groupSize: 32',
    '    keepUnaligned: true',
  ].join('\n'));
  const r = runCli(dir, ['batch', 'jobs.yaml', '--json']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const jobs = JSON.parse(r.stdout).result.jobs;
  assert.deepEqual(jobs.map((j: { output: string }) => path.basename(j.output)), [`${path.basename(tiny)}-AWQ`, `${path.basename(tiny)}-GPTQ`, 'stories260K-GPTQ']);
  const q = (i: number) => JSON.parse(fs.readFileSync(path.join(jobs[i].output, 'config.json'), 'utf8')).quantization_config;
  assert.equal(q(0).quant_method, 'awq');
  assert.equal(q(0).group_size, 64);
  assert.equal(q(1).quant_method, 'gptq');
  assert.equal(q(2).bits, 8);
  assert.equal(q(2).group_size, 32);
  for (const j of jobs) {
    assert.ok(fs.existsSync(path.join(j.output, 'model.safetensors')));
    assert.equal(JSON.parse(fs.readFileSync(j.output + '.report.json', 'utf8')).complete, true);
  }
  const again = runCli(dir, ['batch', 'jobs.yaml', '--skip-existing', '--json']);
  assert.deepEqual(JSON.parse(again.stdout).result.jobs.map((j: { status: string }) => j.status), ['skipped', 'skipped', 'skipped']);
  fs.rmSync(dir, { recursive: true, force: true });
});
