// Issue 13 in a real 80×24 terminal, driving the compiled CLI: the bundled sample with an importance
// matrix chosen on the target screen. `auto` (computed in the run from the default calibration
// corpus; 16 chunks, c, to keep the test short) with iq2_XS, and an imatrix file with iq2_XXS: each
// output's bytes equal the CLI's `convert --imatrix auto|FILE` with the same options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TmuxSession, assertFitsPane, noTmux } from './support/tmux.ts';
import { ROOT, runCliAsync } from './support/cli.ts';
import { writeImatrixGguf } from '../formats/imatrix/write-imatrix.ts';
import type { Imatrix } from '../formats/imatrix/imatrix.ts';

/** The folder the TUI's bundled sample is (the compiled build's copy). */
const SAMPLE = path.join(ROOT, 'dist/samples/stories260K');

const squash = (s: string) => s.replace(/\s+/g, '');

/** Text into a field as one paste (tmux send-keys -l), as a person pasting a path would. */
async function type(s: TmuxSession, text: string): Promise<void> {
  s.tmux('send-keys', '-t', 'forge', '-l', text);
  await s.waitFor(`${text}▏`);
}

/** From the home screen to the target list of the bundled sample. */
async function toTargets(s: TmuxSession): Promise<void> {
  await s.waitFor('Open the bundled sample');
  await s.keys('s');
  await s.waitFor('supported: this model can be converted');
  await s.keys('Enter');
  await s.waitFor('› q4_0');
}

async function moveTo(s: TmuxSession, type: string): Promise<void> {
  for (let i = 0; i < 60 && !s.pane().includes(`› ${type} `); i++) await s.keys('Down');
  await s.waitFor(`› ${type} `);
}

/** stories260K's 35 weight matrices, uneven column weights (0 included), as an imatrix file would hold them. */
function storiesImatrix(): Imatrix {
  const entries = new Map<string, { sums: Float32Array; counts: number[] }>();
  for (let l = 0; l < 5; l++) {
    for (const [t, n] of [['attn_q', 64], ['attn_k', 64], ['attn_v', 64], ['attn_output', 64], ['ffn_gate', 64], ['ffn_up', 64], ['ffn_down', 172]] as const) {
      const sums = Float32Array.from({ length: n }, (_, i) => ((i * 7 + l * 13) % 11) * 37.5);
      entries.set(`blk.${l}.${t}.weight`, { sums, counts: [64] });
    }
  }
  return { entries, datasets: ['tui-e2e.txt'], chunkCount: 64, chunkSize: 512, legacy: false };
}

test('tmux 80×24: sample → i (auto) → iq2_XS → plan → run (imatrix progress) → report; bytes equal convert --imatrix auto', { skip: noTmux, timeout: 120_000 }, async () => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'gguf-forge-imatrix-e2e-'));
  const s = new TmuxSession({ cwd, columns: 80, rows: 24, env: { NO_COLOR: '1' } });
  try {
    await toTargets(s);
    assert.match(s.pane(), /imatrix \(i\): none/);
    await s.keys('i');
    await s.waitFor('imatrix (i): auto: computed in the run (bundled corpus) · chunks default (c)');
    await s.keys('c');
    await s.waitFor('imatrix chunks (empty: default): ');
    await s.keys('1');
    await s.keys('6');
    await s.keys('Enter');
    const target = await s.waitFor('chunks 16 (c)');
    assertFitsPane(target, 80, 24);
    await moveTo(s, 'iq2_XS');
    assert.doesNotMatch(s.pane(), /iq2_XS is unavailable/);
    await s.keys('Enter');
    const plan = await s.waitFor('Start the conversion?');
    assertFitsPane(plan, 80, 24);
    assert.match(plan, /plan · iq2_XS · imatrix auto/);
    assert.match(plan, /imatrix: auto, computed from the calibration text when the conversion runs/);
    await s.keys('Enter');
    const progress = await s.waitFor(/imatrix +\S+ +\d+% \d+\/16 chunks/, 30_000);
    assert.match(progress, /imatrix: (chunk )?\d+\/16/);
    assertFitsPane(progress, 80, 24);
    const report = await s.waitFor(/anomal/, 60_000);
    assertFitsPane(report, 80, 24);
    assert.match(report, /wrote .*stories260K-IQ2_XS\.gguf/);
    assert.match(report, /imatrix: auto \(35 entries, 16 chunks, dataset State of the Union/);
    s.kill(); // the TUI is done: the CLI gets the cores
    const r = await runCliAsync(['convert', SAMPLE, '--type', 'iq2_XS', '--imatrix', 'auto', '--chunks', '16', '-o', path.join(cwd, 'cli.gguf')], { cwd });
    assert.equal(r.status, 0, r.stderr);
    const ours = fs.readFileSync(path.join(cwd, 'stories260K-IQ2_XS.gguf'));
    assert.ok(ours.equals(fs.readFileSync(path.join(cwd, 'cli.gguf'))), 'the TUI file equals convert --imatrix auto');
  } finally {
    s.kill();
    fs.rmSync(cwd, { recursive: true, force: true });
  }
});

test('tmux 80×24: i i → a missing imatrix file is refused with the CLI\'s message; an imatrix GGUF → iq2_XXS; bytes equal convert --imatrix FILE', { skip: noTmux, timeout: 120_000 }, async () => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'gguf-forge-imatrix-file-e2e-'));
  const file = path.join(cwd, 'stories.imatrix.gguf');
  await writeImatrixGguf(file, storiesImatrix());
  const s = new TmuxSession({ cwd, columns: 80, rows: 24, env: { NO_COLOR: '1' } });
  try {
    await toTargets(s);
    await moveTo(s, 'iq2_XXS');
    assert.match(s.pane(), /iq2_XXS is unavailable: i-quants need an importance matrix: press i for one/);
    await s.keys('i');
    await s.waitFor('imatrix (i): auto');
    await s.keys('i');
    await s.waitFor('imatrix file: ');
    await type(s, 'nope.dat');
    await s.keys('Enter');
    await s.waitFor('imatrix (i): file: nope.dat');
    assert.match(s.pane(), /› iq2_XXS /, 'the cursor stays on its type when the list re-orders');
    await s.keys('Enter');
    await s.waitFor(`imatrix file not found: ${path.join(cwd, 'nope.dat')}`);
    assert.match(s.pane(), /output type · stories260K/);
    for (const want of ['imatrix (i): none', 'imatrix (i): auto', 'imatrix file: ']) { // a fresh path
      await s.keys('i');
      await s.waitFor(want);
    }
    await type(s, 'stories.imatrix.gguf');
    await s.keys('Enter');
    await s.waitFor('imatrix (i): file: stories.imatrix.gguf');
    await s.keys('Enter');
    const plan = await s.waitFor('Start the conversion?');
    assertFitsPane(plan, 80, 24);
    assert.match(plan, /plan · iq2_XXS · imatrix file/);
    // The CLI dry run's line, wrapped at word boundaries by the terminal width.
    assert.ok(squash(plan).includes(squash(`imatrix: ${file} (35 entries, 64 chunks, dataset tui-e2e.txt): weights for 35 tensor(s) (marked *); no entry for 1 quantized tensor(s): token_embd.weight`)), plan);
    assert.match(plan, /\*\s+[\d.]+ KiB/, 'rows quantized with importance weights are marked *');
    await s.keys('Enter');
    const report = await s.waitFor(/anomal/, 60_000);
    assertFitsPane(report, 80, 24);
    assert.ok(squash(report).includes(squash(`imatrix: ${file} (35 entries, 64 chunks, dataset tui-e2e.txt): weights for 35 tensor(s)`)), report);
    s.kill(); // the TUI is done: the CLI gets the cores
    const r = await runCliAsync(['convert', SAMPLE, '--type', 'iq2_XXS', '--imatrix', file, '-o', path.join(cwd, 'cli.gguf')], { cwd });
    assert.equal(r.status, 0, r.stderr);
    const ours = fs.readFileSync(path.join(cwd, 'stories260K-IQ2_XXS.gguf'));
    assert.ok(ours.equals(fs.readFileSync(path.join(cwd, 'cli.gguf'))), 'the TUI file equals convert --imatrix FILE');
  } finally {
    s.kill();
    fs.rmSync(cwd, { recursive: true, force: true });
  }
});

test('tmux 80×24: a typed .gguf path is quantize\'s input: i offers a file only, iq2_XXS with an imatrix GGUF; bytes equal quantize --imatrix FILE', { skip: noTmux, timeout: 120_000 }, async () => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'gguf-forge-imatrix-quantize-e2e-'));
  const input = path.join(cwd, 'stories260K-F32.gguf');
  fs.copyFileSync(path.join(ROOT, 'samples/stories260K/reference-convert-f32.gguf'), input);
  const file = path.join(cwd, 'stories.imatrix.gguf');
  await writeImatrixGguf(file, storiesImatrix());
  const s = new TmuxSession({ cwd, columns: 80, rows: 24, env: { NO_COLOR: '1' } });
  try {
    await s.waitFor('Open the bundled sample');
    await s.keys('c');
    await s.waitFor('Search the Hub, or a local path');
    await type(s, 'stories260K-F32.gguf');
    await s.keys('Enter');
    await s.waitFor('output type · stories260K');
    assert.match(s.pane(), /imatrix \(i\): none \(auto needs a local model folder\)/);
    await s.keys('i'); // no auto for a GGUF: straight to the file
    await s.waitFor('imatrix file: ');
    await type(s, 'stories.imatrix.gguf');
    await s.keys('Enter');
    await s.waitFor('imatrix (i): file: stories.imatrix.gguf');
    await moveTo(s, 'iq2_XXS');
    assert.match(s.pane(), /output: stories260K-IQ2_XXS\.gguf/);
    await s.keys('Enter');
    const plan = await s.waitFor('Start the conversion?');
    assertFitsPane(plan, 80, 24);
    assert.ok(squash(plan).includes(squash(`imatrix: ${file} (35 entries, 64 chunks, dataset tui-e2e.txt): weights for 35 tensor(s) (marked *)`)), plan);
    await s.keys('Enter');
    const report = await s.waitFor(/wrote .*stories260K-IQ2_XXS\.gguf/, 60_000);
    assertFitsPane(report, 80, 24);
    assert.ok(squash(report).includes(squash(`imatrix: ${file} (35 entries, 64 chunks, dataset tui-e2e.txt)`)), report);
    s.kill(); // the TUI is done: the CLI gets the cores
    const r = await runCliAsync(['quantize', input, path.join(cwd, 'cli.gguf'), '--type', 'iq2_XXS', '--imatrix', file], { cwd });
    assert.equal(r.status, 0, r.stderr);
    const ours = fs.readFileSync(path.join(cwd, 'stories260K-IQ2_XXS.gguf'));
    assert.ok(ours.equals(fs.readFileSync(path.join(cwd, 'cli.gguf'))), 'the TUI file equals quantize --imatrix FILE');
  } finally {
    s.kill();
    fs.rmSync(cwd, { recursive: true, force: true });
  }
});
