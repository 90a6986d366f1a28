// In a real 80×24 terminal, the compiled binary: the bundled sample to AWQ from the TUI, then `e`
// on the report screen evaluates the packed checkpoint against its source (as `convert --type awq
// --eval` does) and shows perplexity and KL divergence. `--eval-text` names the text `e` scores.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TmuxSession, assertFitsPane, noTmux } from './support/tmux.ts';

const SAMPLE = path.resolve(import.meta.dirname, '../samples/stories260K');

test('tmux 80×24: sample → awq g32 (k keeps the unaligned) → run → report → e → PPL and KL against the source', { skip: noTmux, timeout: 240_000 }, async () => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'gguf-forge-awq-eval-e2e-'));
  const s = new TmuxSession({ cwd, columns: 80, rows: 24, args: ['--eval-text', path.join(SAMPLE, 'eval.txt')], env: { NO_COLOR: '1' } });
  try {
    await s.waitFor('Open the bundled sample');
    await s.keys('s');
    await s.waitFor('supported: this model can be converted');
    await s.keys('Enter');
    await s.waitFor('› q4_0');
    for (let i = 0; i < 60 && !/› awq/.test(s.pane()); i++) await s.keys('Down');
    await s.waitFor('› awq');
    await s.keys('Enter');
    await s.waitFor(/\d+ packed · \d+ kept in fp16 · \d+ cannot be packed/);
    await s.keys('m'); // round-to-nearest: this test is about eval, not calibration
    await s.waitFor('method rtn, round-to-nearest');
    await s.keys('g'); // 128 → 64
    await s.keys('g'); // 64 → 32
    await s.waitFor('group 32 (g)');
    await s.keys('k');
    await s.waitFor('keep-unaligned on');
    await s.keys('Enter');
    let report = await s.waitFor(/e eval · r another type/, 120_000);
    assertFitsPane(report, 80, 24);
    assert.match(report, /wrote .*stories260K-AWQ/);
    assert.match(report, /e: evaluate PPL and KL divergence against\s+\S*stories260K/); // the path may wrap at 80 columns
    await s.keys('e');
    report = await s.waitFor(/KL\s+mean/, 120_000);
    // Ink wraps the figures line at word boundaries: read it as one line.
    assert.match(report.replace(/\s*\n/g, ' '), /eval \(\d+ chunks of \d+\): PPL [\d.]+ ± [\d.]+ vs source 3\.57\d+ \(ratio 1\.0\d+\), KL mean 0\.0\d+ ± [\d.]+/);
    assert.doesNotMatch(report, /eval failed/);
    const visible = s.tmux('capture-pane', '-p', '-t', 'forge');
    assertFitsPane(visible, 80, 24);
    assert.ok(fs.existsSync(path.join(cwd, 'stories260K-AWQ', 'config.json')));
  } finally {
    s.kill();
    fs.rmSync(cwd, { recursive: true, force: true });
  }
});
