// Issue 15, Major 3, in a real 80×24 terminal: the bundled sample to AWQ from the TUI. The plan
// screen lists every layer; the ones AWQ g128 cannot pack are shown blocked and stop the start
// until keep-unaligned (k) keeps them in fp16, as the screen says. The run lines carry no "0 B",
// the report's columns line up, and `i` opens the output folder in the inspector.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TmuxSession, assertFitsPane, noTmux } from './support/tmux.ts';

test('tmux 80×24: sample → awq → plan (blocked layers, k keeps them) → run → report → i → folder inspector', { skip: noTmux, timeout: 300_000 }, async () => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'gguf-forge-awq-e2e-'));
  const s = new TmuxSession({ cwd, columns: 80, rows: 24, env: { NO_COLOR: '1' } });
  try {
    await s.waitFor('Open the bundled sample');
    await s.keys('s');
    await s.waitFor('supported: this model can be converted');
    await s.keys('Enter');
    await s.waitFor('› q4_0');
    for (let i = 0; i < 60 && !/› awq/.test(s.pane()); i++) await s.keys('Down');
    await s.waitFor('› awq');
    await s.keys('Enter');
    let plan = await s.waitFor(/\d+ packed · \d+ kept in fp16 · \d+ cannot be packed/);
    assertFitsPane(plan, 80, 24);
    assert.match(plan, /gguf-forge · plan · awq/);
    assert.match(plan, /method awq, calibrated \(m\) · 128 samples \(n\) × 512 tokens \(l\)/);
    assert.match(plan, /bits 4 \(b\) · group 128 \(g\)/);
    await s.keys('m'); // round-to-nearest: this test is about packing, not calibration
    plan = await s.waitFor('method rtn, round-to-nearest: no calibration (m)');
    // stories260K is 64 wide (ffn 172): nothing packs at g128, and the screen names a group that does.
    assert.match(plan, /0 packed · \d+ kept in fp16 · 35 cannot be packed/);
    assert.match(plan, /no layer can be packed with group 128: g changes the group/);
    const hint = /g changes the group \((-?\d+) packs (\d+) of 35\)/.exec(plan);
    assert.ok(hint, plan);
    // g cycles 128 → 64 → 32 → -1; go to the suggested group.
    const steps = ['64', '32', '-1'].indexOf(hint[1]!) + 1;
    for (let i = 0; i < steps; i++) await s.keys('g');
    plan = await s.waitFor(`group ${hint[1]}${hint[1] === '-1' ? ' (per channel)' : ''} (g)`);
    const blocked = 35 - Number(hint[2]);
    assert.match(plan, new RegExp(`${hint[2]} packed · \\d+ kept in fp16 · ${blocked} cannot be packed`));
    assert.match(plan, new RegExp(`${blocked} layer\\(s\\) cannot be packed with group ${hint[1]}: k keeps them in fp16`));
    assertFitsPane(plan, 80, 24);
    await s.keys('Enter'); // refused while layers are blocked
    assert.match(await s.waitFor('not started: press k'), /plan · awq/);
    // The table scrolls: the layer under the cursor says why it cannot be packed.
    for (let i = 0; i < 40 && !/is not a multiple of/.test(s.pane()); i++) await s.keys('Down');
    assert.match(s.pane(), /model\.layers\.\d\.mlp\.\w+\.weight: (in|out)_features 172 is not a multiple of/);
    await s.keys('k');
    plan = await s.waitFor('keep-unaligned on');
    assert.match(plan, /fp16 \(kept\)/);
    assert.match(plan, new RegExp(`${blocked} cannot be packed \\(kept in fp16\\)`));
    assert.match(plan, /Start the conversion\? enter \/ y/);
    await s.keys('Enter');
    const report = await s.waitFor(/anomal/, 120_000);
    assertFitsPane(report, 80, 24);
    assert.match(report, /wrote .*stories260K-AWQ/);
    assert.doesNotMatch(report, / 0 B/);
    // The worst-tensor lines: type and "rel" columns start at the same place on every line.
    const worst = report.split('\n').filter((l) => / rel \d/.test(l));
    assert.ok(worst.length >= 2, report);
    assert.equal(new Set(worst.map((l) => l.indexOf(' rel '))).size, 1, worst.join('\n'));
    await s.keys('i');
    const insp = await s.waitFor(`AWQ 4-bit, group size ${hint[1]}, asym`);
    assertFitsPane(insp, 80, 24);
    assert.match(insp, /gguf-forge · inspect · .*stories260K-AWQ/);
    assert.match(insp, /modules_to_not_convert: \["mlp\.gate_proj","mlp\.up_proj"\]/);
    await s.keys('PageDown');
    await s.waitFor(/lines \d+–\d+ of \d+/);
    await s.keys('Escape');
    await s.waitFor('r another type');
    assert.ok(fs.existsSync(path.join(cwd, 'stories260K-AWQ', 'config.json')));
  } finally {
    s.kill();
    fs.rmSync(cwd, { recursive: true, force: true });
  }
});
