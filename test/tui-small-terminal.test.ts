// Issue 15, Major 4, in a real 80×24 terminal: every screen of the main flow fits (its title is the
// first line on screen, no line is wider than 80), and `?` shows the keys of the screen underneath
// in a window that scrolls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TmuxSession, noTmux } from './support/tmux.ts';

function assertFits(pane: string, title: string) {
  const lines = pane.replace(/\n+$/, '').split('\n');
  assert.ok(lines.length <= 24, `${lines.length} lines`);
  assert.ok(lines[0]!.startsWith(`gguf-forge · ${title}`) || lines[0]!.startsWith('╭'), `title off-screen:\n${pane}`);
  for (const l of lines) assert.ok([...l].length <= 80, `wider than 80: ${l}`);
}

test('tmux 80×24: home, summary, target, plan, report and the inspector fit; ? is per screen and scrolls', { skip: noTmux, timeout: 300_000 }, async () => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'gguf-forge-small-'));
  const s = new TmuxSession({ cwd, columns: 80, rows: 24, env: { NO_COLOR: '1' } });
  try {
    assertFits(await s.waitFor('Open the bundled sample'), 'home');
    await s.keys('?');
    let help = await s.waitFor('keys · home');
    assert.match(help, /convert a model/);
    assert.doesNotMatch(help, /tensors: filter by name or type/, 'the inspector\'s keys are not on the home help');
    await s.keys('Escape');
    await s.keys('s');
    assertFits(await s.waitFor('supported: this model can be converted'), 'model');
    await s.keys('Enter');
    assertFits(await s.waitFor('› q4_0'), 'output type');
    await s.keys('?');
    help = await s.waitFor('keys · output type');
    assert.ok(help.replace(/\n+$/, '').split('\n').length <= 24, help);
    assert.match(help, /toggle --via f16/);
    await s.keys('?');
    await s.waitFor(/output type · stories260K/);
    await s.keys('Enter');
    assertFits(await s.waitFor('Start the conversion?'), 'plan');
    await s.keys('Enter');
    assertFits(await s.waitFor(/anomalies/, 120_000), 'report');
    await s.keys('i');
    assertFits(await s.waitFor(/GGUF v3/), 'inspect');
    await s.keys('Tab');
    assertFits(await s.waitFor(/block 0 of \d+|histogram/), 'inspect');
    await s.keys('Tab');
    assertFits(await s.waitFor(/implied file type/), 'inspect');
    // The inspector's help is longer than the window: it scrolls to its end.
    await s.keys('?');
    help = await s.waitFor('keys · inspector (↑↓ scroll · ? or esc closes)');
    assert.ok(help.replace(/\n+$/, '').split('\n').length <= 24, help);
    assert.match(help, /lines 1–\d+ of \d+/);
    assert.doesNotMatch(help, /ctrl\+c +quit/);
    await s.keys('PageDown', 'Down');
    const end = await s.waitFor(/lines (\d+)–(\d+) of \2/);
    assert.doesNotMatch(end, /lines 1–/);
    assert.match(end, /quit \(asks first while a conversion runs\)/, 'the end of the list is reachable');
    await s.keys('Escape');
    await s.waitFor(/implied file type/);
  } finally {
    s.kill();
    fs.rmSync(cwd, { recursive: true, force: true });
  }
});
