// The TUI's importance-matrix and calibration choices, screen by screen (ink-testing-library):
// the target screen's `i` (none → auto → file, auto skipped for an hf: source), `c` (auto's chunks),
// the file check; the plan screen's imatrix line and * marks from the real planner with a .dat file;
// the run screen's imatrix progress; the report's imatrix facts; the AWQ/GPTQ plan's calibrated
// default with its sample fields; the App's run of an `auto` choice (computed, then planned), and a
// typed .gguf path going to quantize.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import React from 'react';
import { render } from 'ink-testing-library';
import { Target, type TargetChoice } from '../src/tui/screens/target.tsx';
import { Plan } from '../src/tui/screens/plan.tsx';
import { Run } from '../src/tui/screens/run.tsx';
import { Report } from '../src/tui/screens/report.tsx';
import { ConfirmGroupwise } from '../src/tui/screens/confirm-groupwise.tsx';
import { App, type TuiDeps } from '../src/tui/app.tsx';
import { targetOptions } from '../src/tui/data/targets.ts';
import { convertModel, type ConvertOptions } from '../src/pipeline/convert.ts';
import type { ConvertSummary, JobSummary, PipelineEvent } from '../src/pipeline/events.ts';
import type { AwqGptqOptions } from '../src/pipeline/awq-gptq.ts';
import { openInspector } from '../src/tui/data/inspector-data.ts';
import { quantizeAsConvert } from '../src/tui/data/quantize-job.ts';
import { writeImatrixDat } from '../formats/imatrix/write-imatrix.ts';
import type { Imatrix } from '../formats/imatrix/imatrix.ts';
import { KEYS, press, waitFor, waitForText } from './support/tui-harness.ts';

const SAMPLE = path.resolve(import.meta.dirname, '../samples/stories260K');
const noop = () => {};
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gguf-forge-tui-imatrix-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function storiesImatrix(): Imatrix {
  const entries = new Map<string, { sums: Float32Array; counts: number[] }>();
  for (let l = 0; l < 5; l++) {
    for (const [t, n] of [['attn_q', 64], ['attn_k', 64], ['attn_v', 64], ['attn_output', 64], ['ffn_gate', 64], ['ffn_up', 64], ['ffn_down', 172]] as const) {
      entries.set(`blk.${l}.${t}.weight`, { sums: Float32Array.from({ length: n }, (_, i) => (i % 5) * 3), counts: [32] });
    }
  }
  return { entries, datasets: ['unit.txt'], chunkCount: 32, chunkSize: 512, legacy: true };
}

test('target list: the imatrix-only mixes are unavailable without an imatrix and available with one', () => {
  const without = targetOptions(0).find((o) => o.name === 'iq2_XS')!;
  assert.equal(without.available, false);
  assert.match(without.reason!, /importance matrix: press i for one/);
  for (const name of ['iq2_XXS', 'iq2_XS', 'q2_K_S']) assert.equal(targetOptions(0, { imatrix: true }).find((o) => o.name === name)!.available, true, name);
});

test('target: i cycles none → auto → file → none, c sets auto\'s chunks, the cursor keeps its type, enter passes --imatrix and --chunks', async () => {
  const chosen: TargetChoice[] = [];
  const r = render(<Target name="m" source={SAMPLE} parameters={1000} active defaultOutput={(t) => `m-${t}.gguf`} onChoose={(c) => chosen.push(c)} onBack={noop} />);
  try {
    await waitForText(r, 'imatrix (i): none');
    for (let i = 0; i < 60 && !r.lastFrame()!.includes('› iq2_XS '); i++) await press(r, KEYS.down);
    await waitForText(r, 'iq2_XS is unavailable');
    await press(r, KEYS.enter);
    assert.equal(chosen.length, 0);
    await press(r, 'i');
    let frame = await waitForText(r, 'imatrix (i): auto: computed in the run (bundled corpus) · chunks default (c)');
    assert.match(frame, /› iq2_XS /, 'the cursor stays on iq2_XS as the list re-orders');
    assert.doesNotMatch(frame, /iq2_XS is unavailable/);
    await press(r, 'c', '0', KEYS.enter);
    await waitForText(r, "chunks: expected a positive integer, got '0'");
    await press(r, 'c', KEYS.backspace, '1', '6', KEYS.enter);
    await waitForText(r, 'chunks 16 (c)');
    await press(r, KEYS.enter);
    await new Promise((res) => setTimeout(res, 100));
    assert.deepEqual(chosen, [{ fileType: 'iq2_XS', output: 'm-iq2_XS.gguf', viaF16: false, pure: false, force: false, imatrix: 'auto', imatrixChunks: 16 }]);
    await press(r, 'i');
    await waitForText(r, 'imatrix file: ');
    await press(r, KEYS.enter);
    await press(r, KEYS.enter);
    await waitForText(r, 'no imatrix file typed');
    await press(r, 'i');
    frame = await waitForText(r, 'imatrix (i): none');
    assert.match(frame, /› iq2_XS .*unavailable/);
  } finally {
    r.unmount();
  }
});

test('target: an hf: source skips auto (the pipeline cannot compute it there); a missing file is refused with the CLI\'s message, an existing one is passed', async () => {
  const chosen: TargetChoice[] = [];
  const dat = path.join(dir, 'stories.dat');
  await writeImatrixDat(dat, storiesImatrix());
  const r = render(<Target name="m" source="hf:org/m" parameters={1000} active defaultOutput={(t) => `m-${t}.gguf`} onChoose={(c) => chosen.push(c)} onBack={noop} />);
  try {
    await waitForText(r, 'imatrix (i): none (auto needs a local model folder)');
    await press(r, 'i');
    await waitForText(r, 'imatrix file: ');
    await press(r, path.join(dir, 'nope.dat'), KEYS.enter, KEYS.enter); // a path arrives as one paste
    await waitForText(r, `imatrix file not found: ${path.join(dir, 'nope.dat')}`);
    assert.equal(chosen.length, 0);
    await press(r, 'i', 'i');
    await waitForText(r, 'imatrix file: ');
    await press(r, dat, KEYS.enter, KEYS.enter);
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(chosen[0]?.imatrix, dat);
  } finally {
    r.unmount();
  }
});

test('plan: a .dat imatrix on the real planner shows the CLI dry run\'s imatrix line and marks the rows it weights; a corrupt file is the reader\'s error', async () => {
  const dat = path.join(dir, 'plan.dat');
  await writeImatrixDat(dat, storiesImatrix());
  const request: ConvertOptions = { source: SAMPLE, fileType: 'iq2_XS', output: path.join(dir, 'o.gguf'), imatrix: dat };
  const r = render(<Plan request={request} convert={convertModel} active onConfirm={noop} onBack={noop} />);
  try {
    const frame = await waitForText(r, 'Start the conversion?', 30_000);
    assert.match(frame, /plan · iq2_XS · imatrix file/);
    assert.ok(frame.replace(/\s+/g, '').includes(`imatrix: ${dat} (35 entries, 32 chunks, dataset unit.txt): weights for 35 tensor(s) (marked *)`.replace(/\s+/g, '')), frame);
    assert.match(frame, /F32→IQ4_NL\s+\*/);
  } finally {
    r.unmount();
  }
  const bad = path.join(dir, 'bad.dat');
  fs.writeFileSync(bad, fs.readFileSync(dat).subarray(0, 100));
  const r2 = render(<Plan request={{ ...request, imatrix: bad }} convert={convertModel} active onConfirm={noop} onBack={noop} />);
  try {
    const frame = await waitForText(r2, '✗', 30_000);
    assert.match(frame, /bad\.dat/);
  } finally {
    r2.unmount();
  }
});

test('run: imatrix progress (bar, chunks, block, rate) before the tensors; report: the quantize.imatrix facts', async () => {
  let release = noop;
  const gate = new Promise<void>((res) => { release = res; });
  const summary = { kind: 'convert', output: '/tmp/x.gguf', outputBytes: 1000, seconds: 1, tensors: 3, fileType: 'iq2_XS', fallbacks: 0, headerBytes: 100, plan: [], source: SAMPLE, dir: SAMPLE, architecture: 'LlamaForCausalLM', parameters: 10,
    imatrix: { file: 'auto', datasets: ['State of the Union addresses'], entries: 35, chunks: 16, used: 35, missing: [] } } satisfies ConvertSummary;
  const start = async function* (): AsyncGenerator<PipelineEvent, JobSummary> {
    yield { type: 'imatrix', state: 'start', chunksDone: 0, chunksTotal: 16, tokensPerSecond: 0 };
    yield { type: 'imatrix', state: 'layer', chunksDone: 4, chunksTotal: 16, layer: 2, nLayer: 5, tokensPerSecond: 1234 };
    await gate;
    return summary;
  };
  let done: JobSummary | null = null;
  const r = render(<Run start={start} title="converting" active onDone={(s) => { done = s; }} onCancelled={noop} onBack={noop} />);
  try {
    const frame = await waitForText(r, 'imatrix: chunk 4/16, block 3/5, 1234 tokens/s');
    assert.match(frame, /imatrix +█+░+ +25% 4\/16 chunks/);
    release();
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(done, summary);
  } finally {
    release();
    r.unmount();
  }
  const rep = render(<Report summary={summary} active onAgain={noop} onQuit={noop} />);
  try {
    const line = 'imatrix: auto (35 entries, 16 chunks, dataset State of the Union addresses): weights for 35 tensor(s)'.replace(/\s+/g, '');
    await waitFor(rep, (f) => f.replace(/\s+/g, '').includes(line), 'the imatrix line');
  } finally {
    rep.unmount();
  }
});

test('AWQ/GPTQ plan: calibrated by default with the CLI\'s 128 × 512; n and l edit them (a positive integer, empty = default); m switches to rtn', async () => {
  const confirmed: AwqGptqOptions[] = [];
  const changes: AwqGptqOptions[] = [];
  const r = render(<ConfirmGroupwise options={{ source: SAMPLE, output: path.join(dir, 'g'), method: 'gptq' }} active onConfirm={(o) => confirmed.push(o)} onBack={noop} onChange={(o) => changes.push(o)} />);
  try {
    await waitForText(r, 'method gptq, calibrated (m) · 128 samples (n) × 512 tokens (l)');
    await press(r, 'n', KEYS.backspace, KEYS.backspace, KEYS.backspace, '0', KEYS.enter);
    await waitForText(r, "expected a positive integer, got '0'");
    await press(r, 'n', KEYS.backspace, KEYS.backspace, KEYS.backspace, 'x', '4', KEYS.enter); // letters are not typed into a number
    await waitForText(r, '· 4 samples (n) × 512 tokens (l)');
    await press(r, 'l', KEYS.backspace, KEYS.backspace, KEYS.backspace, '6', '4', KEYS.enter);
    await waitForText(r, '· 4 samples (n) × 64 tokens (l)');
    await press(r, 'g', 'g', 'k');
    await waitForText(r, 'keep-unaligned on');
    await press(r, KEYS.enter);
    assert.equal(confirmed.length, 1);
    assert.equal(confirmed[0]!.algorithm, undefined, 'the type\'s calibrated method, as the CLI without --method');
    assert.deepEqual(confirmed[0]!.calibration, { samples: 4, seqlen: 64 });
    await press(r, 'm');
    await waitForText(r, 'method rtn, round-to-nearest: no calibration (m)');
    await press(r, 'n');
    await waitForText(r, 'round-to-nearest reads no calibration text');
    await press(r, KEYS.enter);
    assert.equal(confirmed[1]!.algorithm, 'rtn');
    assert.equal(changes.at(-1)!.algorithm, 'rtn', 'the App hears the method, to keep it');
  } finally {
    r.unmount();
  }
});

test('App: an auto imatrix is computed by the run, which plans again with it (the plan screen only named it)', async () => {
  const cwd = fs.mkdtempSync(path.join(dir, 'app-'));
  const calls: ConvertOptions[] = [];
  const convert: TuiDeps['convert'] = async function* (opts) {
    calls.push(opts);
    if (opts.dryRun) return yield* convertModel(opts);
    yield { type: 'imatrix', state: 'start', chunksDone: 0, chunksTotal: 2, tokensPerSecond: 0 };
    throw new Error('stopped by the test');
  };
  const r = render(<App deps={{ convert, search: async () => [], cached: async () => [], openInspector, samplePath: SAMPLE, cwd }} />);
  try {
    await waitForText(r, 'Open the bundled sample');
    await press(r, 's');
    await waitForText(r, 'supported: this model can be converted');
    await press(r, KEYS.enter);
    await waitForText(r, 'imatrix (i): none');
    await press(r, 'i', 'c', '2', KEYS.enter);
    await waitForText(r, 'chunks 2 (c)');
    await press(r, KEYS.enter);
    await waitForText(r, /imatrix: auto, computed from the calibration text when the conversion runs/, 30_000);
    await press(r, KEYS.enter);
    await waitForText(r, 'stopped by the test');
    assert.equal(calls.length, 2);
    assert.equal(calls[1]!.imatrix, 'auto');
    assert.deepEqual(calls[1]!.calib, { chunks: 2 });
    assert.equal(calls[1]!.plan, undefined);
  } finally {
    r.unmount();
  }
});

test('App: a typed .gguf path goes to quantize (no auto imatrix, a .dat file instead), planned once: the run executes the plan screen\'s plan', async () => {
  const cwd = fs.mkdtempSync(path.join(dir, 'quantize-'));
  const input = path.join(cwd, 'stories260K-F32.gguf');
  fs.copyFileSync(path.join(SAMPLE, 'reference-convert-f32.gguf'), input);
  const dat = path.join(cwd, 'm.dat');
  await writeImatrixDat(dat, storiesImatrix());
  const calls: ConvertOptions[] = [];
  const made: unknown[] = [];
  const quantize: TuiDeps['convert'] = (opts) => {
    calls.push(opts);
    return quantizeAsConvert({ ...opts, onPlan: (p) => { made.push(p); opts.onPlan?.(p); } });
  };
  const r = render(<App deps={{ convert: convertModel, quantize, search: async () => [], cached: async () => [], openInspector, samplePath: SAMPLE, cwd }} />);
  try {
    await waitForText(r, 'Open the bundled sample');
    await press(r, 'c');
    await waitForText(r, 'Search the Hub, or a local path');
    await press(r, 'stories260K-F32.gguf', KEYS.enter);
    await waitForText(r, 'imatrix (i): none (auto needs a local model folder)');
    await press(r, 'i');
    await waitForText(r, 'imatrix file: ');
    await press(r, 'm.dat', KEYS.enter);
    await waitForText(r, 'imatrix (i): file: m.dat');
    for (let i = 0; i < 60 && !r.lastFrame()!.includes('› q4_K_M '); i++) await press(r, KEYS.down);
    await press(r, KEYS.enter);
    const plan = await waitForText(r, 'Start the conversion?', 30_000);
    assert.ok(plan.replace(/\s+/g, '').includes(`imatrix: ${dat} (35 entries, 32 chunks, dataset unit.txt)`.replace(/\s+/g, '')), plan);
    await press(r, KEYS.enter);
    await waitForText(r, /wrote .*stories260K-Q4_K_M\.gguf/, 60_000);
    assert.equal(calls.length, 2);
    assert.equal(calls[0]!.dryRun, true);
    assert.equal(calls[1]!.imatrix, dat);
    assert.equal(calls[1]!.plan, made[0], 'the run executed the plan screen\'s plan');
    assert.equal(made[1], made[0], 'planned once: the run hands back the plan it was given');
  } finally {
    r.unmount();
  }
});
