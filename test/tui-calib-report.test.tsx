// The TUI report screen of a calibrated AWQ/GPTQ run: the per-layer loss chart fits 80×24 and
// 200×50, scrolls when the layers exceed the height, tab switches to the round-trip error; the
// run screen shows calibration progress (layer i/N, module, samples, ETA).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import React from 'react';
import { Report } from '../src/tui/screens/report.tsx';
import { Run } from '../src/tui/screens/run.tsx';
import { findAnomalies } from '../src/pipeline/calib-anomalies.ts';
import type { CalibProgressEvent, GroupwiseSummary, JobSummary, PipelineEvent } from '../src/pipeline/events.ts';
import { KEYS, renderAt } from './support/tui-harness.ts';
import { calibReport } from './support/calib-fixture.ts';

const noop = () => {};

function summaryWith(nLayer: number, method: 'awq' | 'gptq' = 'gptq'): GroupwiseSummary {
  const calibration = calibReport({ nLayer, method, set: { '9:ffn_down': 5, '4:attn_v': NaN } });
  calibration.anomalies = findAnomalies(calibration.layers);
  return {
    kind: method, method, output: '/tmp/out-GPTQ', outputBytes: 123456, seconds: 3.2, tensors: 100, quantization_config: {}, files: [], packedLayers: 7 * nLayer, keptInFp16: [],
    calibration,
    report: { tensors: [], byLayer: { 0: { count: 7, meanRelFrobenius: 0.1, maxRelFrobenius: 0.2, minSnrDb: 10 } }, byKind: {}, worst: [], anomalies: [] } as never,
  };
}

async function until(frame: () => string, pred: RegExp | ((f: string) => boolean), timeoutMs = 10_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const f = frame();
    if (typeof pred === 'function' ? pred(f) : pred.test(f)) return f;
    if (Date.now() > end) throw new Error(`timed out waiting for ${pred}; last frame:\n${f}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

const fits = (frame: string, columns: number, rows: number) => {
  const lines = frame.replace(/\n+$/, '').split('\n');
  assert.ok(lines.length <= rows, `${lines.length} lines > ${rows}:\n${frame}`);
  for (const l of lines) assert.ok([...l].length <= columns, `wider than ${columns}: ${l}`);
};

test('80×24: 32 layers scroll in the chart window; every line fits; ↓ and pgdn move, the anomalies come last', async () => {
  const r = renderAt(<Report summary={summaryWith(32)} active onAgain={noop} onQuit={noop} />, 80, 24);
  const step = async (k: string) => { await new Promise((res) => setTimeout(res, 60)); r.key(k); };
  try {
    let f = await until(r.lastFrame, /GPTQ calibration: 32 layers/);
    fits(f, 80, 24);
    assert.match(f, /layer +mean +max +worst/);
    assert.match(f, /↑\/↓ pgup\/pgdn scroll/);
    assert.match(f, /↓ \d+ more/);
    assert.match(f, /^ {2} +0 +[\d.e-]+ +[\d.e-]+ ffn_down +█+░*$/m);
    assert.doesNotMatch(f, /^ +31 /m);
    assert.match(f, /tab loss\/error/);
    await step(KEYS.down);
    f = await until(r.lastFrame, /↑ 1 more/);
    assert.doesNotMatch(f, /^ {2} +0 /m);
    fits(f, 80, 24);
    for (let i = 0; i < 8; i++) await step('\u001B[6~'); // page down to the end
    f = await until(r.lastFrame, /\(end\)/);
    fits(f, 80, 24);
    assert.match(f, /calibration anomalies \(2\):/);
    assert.match(f, /non-finite-loss: layer 4 attn_v: loss is NaN/);
    assert.match(f, /outlier-loss: layer 9 ffn_down: loss 5\.00 is/);
    await step('\u001B[5~'); // page up
    f = await until(r.lastFrame, (x) => !x.includes('(end)'));
    fits(f, 80, 24);
    // tab: the round-trip error view, and back.
    await step(KEYS.tab);
    f = await until(r.lastFrame, /round-trip error per layer/);
    assert.match(f, /tab: calibration loss \(2 anomalies\)/);
    await step(KEYS.tab);
    await until(r.lastFrame, /GPTQ calibration: 32 layers/);
  } finally {
    r.unmount();
  }
});

test('200×50: module columns, the flagged rows marked, no line wider than the terminal; a short report does not scroll', async () => {
  const r = renderAt(<Report summary={summaryWith(12, 'awq')} active onAgain={noop} onQuit={noop} />, 200, 50);
  try {
    const f = await until(r.lastFrame, /AWQ calibration: 12 layers/);
    fits(f, 200, 50);
    assert.match(f, /worst +q +k +v +o +gate +up +down/);
    assert.match(f, /^! +4 .*!NaN.*✗ NaN$/m);
    assert.match(f, /^! +9 .*!5\.00e\+0 █+/m);
    assert.match(f, /AWQ scale groups: chosen ratio, loss before → after/);
  } finally {
    r.unmount();
  }
  const small = renderAt(<Report summary={summaryWith(3)} active onAgain={noop} onQuit={noop} />, 200, 50);
  try {
    const f = await until(small.lastFrame, /calibration anomalies/);
    assert.doesNotMatch(f, /scroll/);
    fits(f, 200, 50);
  } finally {
    small.unmount();
  }
});

test('without calibration the AWQ/GPTQ report is the round-trip error view, with no tab hint; e names the source', async () => {
  const s = summaryWith(3);
  delete s.calibration;
  const r = renderAt(<Report summary={s} source="/models/llama" active onAgain={noop} onQuit={noop} />, 80, 24);
  try {
    const f = await until(r.lastFrame, /round-trip error per layer/);
    assert.doesNotMatch(f, /tab/);
    assert.match(f, /e: evaluate PPL and KL divergence against \/models\/llama/);
    assert.match(f, /e eval · r another type/);
  } finally {
    r.unmount();
  }
  const none = renderAt(<Report summary={s} active onAgain={noop} onQuit={noop} />, 80, 24);
  try {
    const f = await until(none.lastFrame, /round-trip error per layer/);
    assert.doesNotMatch(f, /e eval/); // no source known: no eval offered
  } finally {
    none.unmount();
  }
});

test('run screen: calibration progress — layers bar, layer i/N, module, samples, ETA — within 80 columns', async () => {
  let release!: () => void;
  const gate = new Promise<void>((res) => { release = res; });
  const ev = (o: Partial<CalibProgressEvent>): CalibProgressEvent => ({ type: 'calibrate', state: 'module', layer: 2, nLayer: 8, samples: 128, seqlen: 512, seconds: 75, method: 'gptq', ...o });
  async function* job(): AsyncGenerator<PipelineEvent, JobSummary> {
    yield { type: 'phase', phase: 'write', message: 'calibrating' };
    yield ev({ state: 'start', layer: 0, seconds: 0 });
    yield ev({ state: 'layer', layer: 1, etaSeconds: 300 });
    yield ev({ module: 'ffn_down', loss: 0.0123, etaSeconds: 280 });
    await gate;
    yield ev({ state: 'done', layer: 8, seconds: 400 });
    return summaryWith(8);
  }
  let done: JobSummary | null = null;
  const r = renderAt(<Run start={() => job()} title="converting · gptq → out" active onDone={(s) => { done = s; }} onCancelled={noop} onBack={noop} />, 80, 24);
  try {
    const f = await until(r.lastFrame, /ffn_down/);
    fits(f, 80, 24);
    assert.match(f, /layers +█+░+ +25% 2\/8/);
    assert.match(f, /calibrate: layer 3\/8 ffn_down loss 1\.23e-2 · 1m15s, ETA 4m40s · 128 samples/);
    release();
    await until(() => (done ? 'done' : ''), /done/);
  } finally {
    r.unmount();
  }
});
