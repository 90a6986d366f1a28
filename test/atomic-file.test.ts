import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAtomicDir, createAtomicFile } from '../formats/io/atomic-file.ts';
import { pendingTemps } from '../formats/io/temp-registry.ts';
import { IoError } from '../formats/errors.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'forge-atomic-'));

test('commit renames the temp file onto the target and leaves no temp behind', async () => {
  const dir = tmp();
  const out = join(dir, 'model.gguf');
  const f = await createAtomicFile(out);
  assert.match(f.tmpPath, /\/\.model\.gguf\.\d+-[0-9a-f]+\.tmp$/);
  assert.ok(pendingTemps().includes(f.tmpPath));
  await writeFile(f.tmpPath, 'hello');
  assert.equal(existsSync(out), false, 'target must not exist before commit');
  await f.commit();
  assert.equal(readFileSync(out, 'utf8'), 'hello');
  assert.deepEqual(readdirSync(dir), ['model.gguf']);
  assert.ok(!pendingTemps().includes(f.tmpPath));
});

test('abort removes the temp file and never creates the target', async () => {
  const dir = tmp();
  const f = await createAtomicFile(join(dir, 'x.gguf'));
  await writeFile(f.tmpPath, 'partial');
  await f.abort();
  assert.deepEqual(readdirSync(dir), []);
});

test('refuses to overwrite an existing target unless force', async () => {
  const dir = tmp();
  const out = join(dir, 'x.gguf');
  writeFileSync(out, 'old');
  await assert.rejects(createAtomicFile(out), (e: unknown) => e instanceof IoError && e.code === 'EEXIST' && e.message.includes(out));
  const f = await createAtomicFile(out, { force: true });
  await writeFile(f.tmpPath, 'new');
  await f.commit();
  assert.equal(readFileSync(out, 'utf8'), 'new');
});

test('commit refuses when the target appeared meanwhile', async () => {
  const dir = tmp();
  const out = join(dir, 'x.gguf');
  const f = await createAtomicFile(out);
  writeFileSync(out, 'someone else');
  await assert.rejects(f.commit(), (e: unknown) => e instanceof IoError && e.code === 'EEXIST');
  await f.abort();
  assert.equal(readFileSync(out, 'utf8'), 'someone else');
  assert.deepEqual(readdirSync(dir), ['x.gguf']);
});

test('atomic dir: written as a temp folder, renamed on commit, force replaces a non-empty folder', async () => {
  const dir = tmp();
  const out = join(dir, 'awq');
  const d = await createAtomicDir(out);
  writeFileSync(join(d.tmpPath, 'config.json'), '{}');
  await d.commit();
  assert.deepEqual(readdirSync(out), ['config.json']);
  await assert.rejects(createAtomicDir(out), (e: unknown) => e instanceof IoError && e.code === 'EEXIST');
  const d2 = await createAtomicDir(out, { force: true });
  writeFileSync(join(d2.tmpPath, 'model.safetensors'), 'x');
  await d2.commit();
  assert.deepEqual(readdirSync(out), ['model.safetensors']);
  assert.deepEqual(readdirSync(dir), ['awq']);
});

test('a missing parent directory is an IoError naming the path', async () => {
  const out = join(tmp(), 'no', 'such', 'x.gguf');
  await assert.rejects(createAtomicFile(out), (e: unknown) => e instanceof IoError && e.message.includes('.x.gguf.'));
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`${signal} removes pending temp files and the process still dies by the signal`, async () => {
    const dir = tmp();
    mkdirSync(join(dir, 'out'));
    const script = `
      import { createAtomicFile } from ${JSON.stringify(new URL('../formats/io/atomic-file.ts', import.meta.url).pathname)};
      import { writeFileSync } from 'node:fs';
      const f = await createAtomicFile(${JSON.stringify(join(dir, 'out', 'm.gguf'))});
      writeFileSync(f.tmpPath, 'partial');
      process.stdout.write(f.tmpPath + '\\n');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const tmpPath: string = await new Promise((res) => child.stdout.once('data', (b: Buffer) => res(b.toString().trim())));
    assert.equal(existsSync(tmpPath), true);
    const exited = new Promise<[number | null, string | null]>((res) => child.on('exit', (c, s) => res([c, s])));
    child.kill(signal);
    const [code, sig] = await exited;
    assert.equal(sig, signal, `exit code ${code}`);
    assert.deepEqual(readdirSync(join(dir, 'out')), []);
  });
}
