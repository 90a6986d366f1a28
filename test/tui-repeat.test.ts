// The blocker of issue 15: leaving the run screen crashed or froze the TUI (Ink 6.8 kept a
// pointer to a <Static> whose Yoga node it had freed). The real binary under tmux drives
// target → plan → run → report → i → inspector → esc → r → target ten times in a row and must
// neither crash nor grow its heap. Heap samples come from GGUF_FORGE_HEAP_LOG (src/tui/heap-log.ts)
// after a forced GC; resident memory from /proc is reported alongside.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TmuxSession, noTmux, rssBytes } from './support/tmux.ts';

const MiB = 1024 * 1024;

test('no file of the TUI uses Ink\'s <Static> (see the comment in src/tui/screens/run.tsx)', () => {
  const root = path.resolve(import.meta.dirname, '../src/tui');
  const files = fs.readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => /\.tsx?$/.test(f));
  assert.ok(files.length > 10);
  for (const f of files) {
    const src = fs.readFileSync(path.join(root, f), 'utf8');
    assert.doesNotMatch(src, /import \{[^}]*\bStatic\b[^}]*\} from 'ink'/, f);
  }
});

test('tmux: run → i → inspector → esc → r → plan → run again, ten times, no crash, steady heap', { skip: noTmux, timeout: 600_000 }, async (t) => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'gguf-forge-repeat-'));
  const heapLog = path.join(cwd, 'heap.log');
  const s = new TmuxSession({ cwd, columns: 120, rows: 40, nodeOptions: ['--expose-gc'], env: { NO_COLOR: '1', GGUF_FORGE_HEAP_LOG: heapLog } });
  const healthy = () => {
    const text = s.pane();
    assert.ok(!s.dead(), `the TUI exited; pane:\n${text}`);
    assert.doesNotMatch(text, /RuntimeError|Error:|heap out of memory|at .*\.(js|ts|tsx):\d+/, text);
  };
  const heap: number[] = [];
  const rss: number[] = [];
  const sample = async () => {
    const lines = () => (fs.existsSync(heapLog) ? fs.readFileSync(heapLog, 'utf8').trim().split('\n').filter(Boolean) : []);
    const before = lines().length;
    process.kill(s.pid(), 'SIGUSR2');
    const end = Date.now() + 20_000;
    while (lines().length === before) {
      if (Date.now() > end) throw new Error('no heap sample: the TUI does not answer SIGUSR2 (frozen?)');
      await new Promise((res) => setTimeout(res, 50));
    }
    heap.push(Number(lines().at(-1)!.split(' ')[0]));
    rss.push(rssBytes(s.pid()));
  };
  try {
    await s.waitFor('Open the bundled sample');
    await s.keys('s');
    await s.waitFor('supported: this model can be converted');
    await s.keys('Enter');
    await s.waitFor('› q4_0');
    for (let i = 0; i < 10; i++) {
      // Alternate q4_0 and q5_K_M (the repro: ↓ after `r`); --force lets a repeat overwrite.
      if (i > 0) await s.keys(i % 2 ? 'Down' : 'Up');
      const type = i % 2 ? 'q5_K_M' : 'q4_0';
      await s.waitFor(`› ${type}`);
      if (s.pane().includes('--force: off')) await s.keys('f');
      await s.waitFor('--force: on');
      await s.keys('Enter');
      await s.waitFor('Start the conversion?');
      healthy();
      await s.keys('Enter');
      await s.waitFor(new RegExp(`wrote .*stories260K-${type.toUpperCase()}\\.gguf`), 120_000);
      await s.waitFor('anomalies: none');
      healthy();
      await s.keys('i');
      await s.waitFor(/GGUF v3 · .* · 47 tensors/);
      await s.keys('Tab');
      await s.waitFor('[tensors]');
      healthy();
      await s.keys('Escape');
      await s.waitFor('r another type');
      await s.keys('r');
      await s.waitFor('output type · stories260K');
      healthy();
      await sample();
    }
    // Ctrl-C still quits (the freeze ignored it).
    await s.keys('C-c');
    await s.waitForExit();
    const first = Math.min(...heap.slice(1, 4));
    const last = Math.min(...heap.slice(-3));
    t.diagnostic(`heapUsed after each round (MiB): ${heap.map((h) => (h / MiB).toFixed(1)).join(' ')}`);
    t.diagnostic(`rss after each round (MiB): ${rss.map((h) => (h / MiB).toFixed(1)).join(' ')}`);
    // A leak of one report or one inspector per round would show as steady growth; the freeze
    // grew by tens of MB per second.
    assert.ok(last - first < 6 * MiB, `heap grew from ${(first / MiB).toFixed(1)} to ${(last / MiB).toFixed(1)} MiB`);
  } finally {
    s.kill();
    fs.rmSync(cwd, { recursive: true, force: true });
  }
});
