// Issue 12 from the TUI, in a real 80×24 terminal driving the compiled CLI: the bundled sample to
// GPTQ with the calibrated method (the default, as the CLI's --method), 4 samples × 64 tokens typed
// into the plan screen's fields. The run shows calibration progress, the report opens on the loss
// chart, and every file of the checkpoint folder equals the CLI's with the same options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TmuxSession, assertFitsPane, noTmux } from './support/tmux.ts';
import { ROOT, runCliAsync } from './support/cli.ts';

/** The folder the TUI's bundled sample is (the compiled build's copy). */
const SAMPLE = path.join(ROOT, 'dist/samples/stories260K');

test('tmux 80×24: sample → gptq → calibrated, n 4, l 64, g32, k → run (calibration progress) → loss chart; files equal convert --type gptq', { skip: noTmux, timeout: 120_000 }, async () => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'gguf-forge-gptq-calib-e2e-'));
  const s = new TmuxSession({ cwd, columns: 80, rows: 24, env: { NO_COLOR: '1' } });
  try {
    await s.waitFor('Open the bundled sample');
    await s.keys('s');
    await s.waitFor('supported: this model can be converted');
    await s.keys('Enter');
    await s.waitFor('› q4_0');
    for (let i = 0; i < 60 && !/› gptq/.test(s.pane()); i++) await s.keys('Down');
    await s.waitFor('› gptq');
    await s.keys('Enter');
    let plan = await s.waitFor('method gptq, calibrated (m) · 128 samples (n) × 512 tokens (l)');
    assertFitsPane(plan, 80, 24);
    // m goes to round-to-nearest and back; n and l take the CLI's --calib-samples / --calib-seqlen.
    await s.keys('m');
    await s.waitFor('method rtn, round-to-nearest: no calibration (m)');
    await s.keys('m');
    await s.waitFor('method gptq, calibrated (m)');
    await s.keys('n');
    await s.waitFor('calibration samples: 128');
    for (const k of ['BSpace', 'BSpace', 'BSpace', '4', 'Enter']) await s.keys(k);
    await s.waitFor('· 4 samples (n) × 512 tokens (l)');
    await s.keys('l');
    await s.waitFor('tokens per sample: 512');
    for (const k of ['BSpace', 'BSpace', 'BSpace', '6', '4', 'Enter']) await s.keys(k);
    await s.waitFor('· 4 samples (n) × 64 tokens (l)');
    // stories260K is 64 wide (ffn 172): group 32, and keep-unaligned for the layers that cannot pack.
    await s.keys('g');
    await s.waitFor('group 64 (g)');
    await s.keys('g');
    await s.waitFor('group 32 (g)');
    await s.keys('k');
    plan = await s.waitFor('keep-unaligned on');
    assertFitsPane(plan, 80, 24);
    assert.match(plan, /Start the conversion\? enter \/ y/);
    await s.keys('Enter');
    const progress = await s.waitFor(/calibrate: (gptq \d+ layers|layer \d\/5)/, 30_000);
    assertFitsPane(progress, 80, 24);
    const report = await s.waitFor('calibration loss per layer', 60_000);
    assertFitsPane(report, 80, 24);
    assert.match(report, /wrote .*stories260K-GPTQ/);
    assert.match(report, /tab loss\/error/);
    const cliOut = path.join(cwd, 'cli-GPTQ');
    s.kill(); // the TUI is done: the CLI gets the cores
    const r = await runCliAsync(['convert', SAMPLE, '--type', 'gptq', '--group-size', '32', '--keep-unaligned', '--calib-samples', '4', '--calib-seqlen', '64', '-o', cliOut], { cwd });
    assert.equal(r.status, 0, r.stderr);
    const ours = path.join(cwd, 'stories260K-GPTQ');
    const files = fs.readdirSync(cliOut).sort();
    assert.deepEqual(fs.readdirSync(ours).sort(), files);
    assert.ok(files.includes('model.safetensors'));
    for (const f of files) assert.ok(fs.readFileSync(path.join(ours, f)).equals(fs.readFileSync(path.join(cliOut, f))), `${f} equals the CLI's`);
  } finally {
    s.kill();
    fs.rmSync(cwd, { recursive: true, force: true });
  }
});
