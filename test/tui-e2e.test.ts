// The real binary in a real terminal: the compiled `gguf-forge` (test/support/cli.ts) under tmux (own socket, temp cwd),
// driven by keys: choose the bundled sample, q8_0, confirm, wait for the report, quit. Asserts on
// the captured pane and on the GGUF written, and that the program exits 0 on `q`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readGguf } from '../formats/gguf/reader.ts';
import { CLI_COMMAND, TmuxSession, noTmux } from './support/tmux.ts';

test('gguf-forge with no arguments in tmux: sample → q8_0 → confirm → report → quit', { skip: noTmux }, async () => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'gguf-forge-e2e-'));
  // The exit code goes to a file: tmux 3.3a leaves #{pane_dead_status} empty when node leaves
  // through process.exit, so the pane's own shell records it.
  const statusFile = path.join(os.tmpdir(), `gguf-forge-e2e-${process.pid}.status`);
  const s = new TmuxSession({ cwd, columns: 100, rows: 45, env: { NO_COLOR: '1' }, after: `echo $? > ${JSON.stringify(statusFile)}` });
  try {
    await s.waitFor('Open the bundled sample');
    await s.keys('s');
    const summary = await s.waitFor('supported: this model can be converted');
    assert.match(summary, /architecture\s+LlamaForCausalLM/);
    await s.keys('Enter');
    await s.waitFor('› q4_0');
    await s.keys('Down', 'Down');
    await s.waitFor('› q8_0');
    await s.keys('Enter');
    const plan = await s.waitFor('Start the conversion?');
    assert.match(plan, /47 tensors · 5 fallbacks · total 336\.53 KiB/);
    await s.keys('Enter');
    const report = await s.waitFor('anomalies: none', 120_000);
    assert.match(report, /gguf-forge · report/);
    assert.match(report, /wrote .*stories260K-Q8_0\.gguf · 336\.53 KiB · 47 tensors/);
    assert.match(report, /layer 4 +\d\.\d\de-3 █+/);
    assert.match(report, /worst tensors\n {2}blk\.\d\.\S+ +Q8_0 +rel \d\.\d\de-3/);
    const file = await readGguf(path.join(cwd, 'stories260K-Q8_0.gguf'));
    assert.equal(file.tensors.length, 47);
    // NO_COLOR: bold stays, but no colour escapes at all.
    assert.doesNotMatch(s.pane(true), /\x1b\[[0-9;]*(3[0-7]|9[0-7]|38;)/);
    await s.keys('q');
    await s.waitForExit();
    assert.equal(fs.readFileSync(statusFile, 'utf8').trim(), '0');
    fs.rmSync(statusFile);
    assert.deepEqual(fs.readdirSync(cwd), ['stories260K-Q8_0.gguf']);
  } finally {
    s.kill();
    fs.rmSync(cwd, { recursive: true, force: true });
  }
});

test('without NO_COLOR the same screen is coloured (so the NO_COLOR check above means something)', { skip: noTmux }, async () => {
  const socket = `gguf-forge-e2e-color-${process.pid}`;
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color' };
  delete env.NO_COLOR;
  delete env.CI;
  const tmux = (...args: string[]) => spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', env }).stdout;
  try {
    tmux('new-session', '-d', '-s', 'forge', '-x', '100', '-y', '30', `env -u CI -u NO_COLOR ${CLI_COMMAND.map((a) => JSON.stringify(a)).join(' ')}`);
    const end = Date.now() + 60_000;
    while (!tmux('capture-pane', '-p', '-t', 'forge').includes('Open the bundled sample')) {
      if (Date.now() > end) throw new Error('the home screen did not appear');
      await new Promise((res) => setTimeout(res, 200));
    }
    assert.match(tmux('capture-pane', '-e', '-p', '-t', 'forge'), /\x1b\[[0-9;]*(3[0-7]|9[0-7]|38;)/);
  } finally {
    spawnSync('tmux', ['-L', socket, 'kill-server']);
  }
});
