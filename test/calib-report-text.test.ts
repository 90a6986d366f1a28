// The calibration report as text (src/pipeline/calib-report-text.ts) and the calibration progress
// line (src/pipeline/calib-progress-text.ts) as the headless printer shows it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { calibChart, formatCalibration, lossText, WIDE_COLUMNS } from '../src/pipeline/calib-report-text.ts';
import { calibProgressText, formatDuration } from '../src/pipeline/calib-progress-text.ts';
import { findAnomalies } from '../src/pipeline/calib-anomalies.ts';
import { formatCalibrationReport } from '../src/cli/report-text.ts';
import { runHeadless } from '../src/cli/headless.ts';
import type { CalibProgressEvent, GroupwiseSummary, PipelineEvent } from '../src/pipeline/events.ts';
import { calibReport } from './support/calib-fixture.ts';

const withAnomalies = (r: ReturnType<typeof calibReport>) => ({ ...r, anomalies: findAnomalies(r.layers) });
const lines = (r: ReturnType<typeof calibReport>, w: number) => { const c = calibChart(r, w); return [...c.head, ...c.body]; };

test('every line fits the width, at 80 and 200 columns and for 64 layers', () => {
  for (const r of [withAnomalies(calibReport({ method: 'awq', nLayer: 6, set: { '3:ffn_down': 0.5, '2:attn_v': NaN } })), calibReport({ nLayer: 64, growth: 1.1 })]) {
    for (const w of [80, 120, 200]) for (const l of lines(r, w)) assert.ok([...l.text].length <= w, `wider than ${w}: ${l.text}`);
  }
});

test('one row per layer: mean, max and the worst module, and a log-scale bar (█ to the mean, ░ to the max)', () => {
  const r = calibReport({ nLayer: 4, growth: 10 });
  const c = calibChart(r, 80);
  assert.match(c.head[0]!.text, /^GPTQ calibration: 4 layers in 12\.5 s · 128 × 512 tokens, seed 42 · calib\.txt$/);
  assert.match(c.head[1]!.text, /log scale 1e-3 … 1e1: █ mean ░ max \(GPTQ avg loss\)/);
  const rows = c.body.slice(0, 4).map((l) => l.text);
  assert.match(rows[0]!, /^ {2} {4}0 {2}2\.50e-3 {2}4\.00e-3 ffn_down +█+░+$/);
  // Losses ×10 per layer: on a log scale each row's bar is the same number of cells longer.
  const full = rows.map((t) => (t.match(/█/g) ?? []).length);
  const steps = full.slice(1).map((n, i) => n - full[i]!);
  assert.ok(steps.every((s) => Math.abs(s - steps[0]!) <= 1) && steps[0]! >= 5, `bars ${full}`);
  // Modules as columns only when the terminal is wide.
  assert.doesNotMatch(c.head[2]!.text, / down/);
  const wide = calibChart(r, 200);
  assert.match(wide.head[2]!.text, /worst +q +k +v +o +gate +up +down/);
  assert.match(wide.body[0]!.text, /1\.00e-3 +1\.50e-3 +2\.00e-3 +2\.50e-3 +3\.00e-3 +3\.50e-3 +4\.00e-3 █/);
  assert.ok(WIDE_COLUMNS > 80 && WIDE_COLUMNS <= 200);
});

test('flagged layers are marked and toned; a NaN shows as ✗ NaN; anomalies are listed', () => {
  const r = withAnomalies(calibReport({ nLayer: 6, set: { '3:ffn_down': 0.5, '2:attn_v': NaN } }));
  const c = calibChart(r, 200);
  const row = (l: number) => c.body.find((x) => x.text.slice(2).trimStart().startsWith(`${l} `))!;
  assert.equal(row(2).tone, 'bad');
  assert.match(row(2).text, /^! +2 .*!NaN.*✗ NaN$/);
  assert.equal(row(3).tone, 'warn');
  assert.match(row(3).text, /^! +3 .*!5\.00e-1 █/);
  assert.equal(row(1).tone, undefined);
  assert.match(row(1).text, /^ {2}/);
  const tail = c.body.slice(6).map((l) => l.text);
  assert.deepEqual(tail.slice(0, 1), ['calibration anomalies (2):']);
  assert.match(tail[1]!, /non-finite-loss: layer 2 attn_v: loss is NaN/);
  assert.match(tail[2]!, /outlier-loss: layer 3 ffn_down: loss 0\.500 is/);
  assert.equal(calibChart(calibReport({ nLayer: 3 }), 80).body.at(-1)!.text, 'calibration anomalies: none');
});

test('AWQ scale groups: the chosen ratio and the loss before → after, with the change', () => {
  const r = calibReport({ method: 'awq', nLayer: 2 });
  const text = formatCalibration(r, 80);
  assert.match(text, /AWQ scale groups: chosen ratio, loss before → after/);
  assert.match(text, /\n +0 attn_norm→attn_q,attn_k,attn_v ratio 0\.45 {2}2\.00e-3 → 1\.00e-3 \(−50\.0%\)/);
  assert.match(text, /\n +1 ffn_norm→ffn_gate,ffn_up +ratio 0\.30 {2}6\.00e-3 → 4\.50e-3 \(−25\.0%\)/);
  assert.match(text, /\(AWQ clip loss\)/);
});

test('names from the files are escaped (a tensor or calib file name cannot send terminal escapes)', () => {
  const r = calibReport({ nLayer: 3 });
  r.calib.source = 'evil\x1b[2J.txt';
  r.layers[1]!.modules[0]!.module = 'attn_q\x1b]0;pwned\x07';
  r.anomalies = [{ rule: 'outlier-loss', layer: 1, module: 'attn_q\x1b[31m', loss: 1, message: 'layer 1 attn_q\x1b[31m: bad' }];
  for (const w of [80, 200]) {
    const all = lines(r, w).map((l) => l.text).join('\n') + formatCalibration(r, w);
    assert.doesNotMatch(all, /\x1b|\x07/);
    assert.match(all, /\\x1b/);
  }
});

test('the headless text keeps whole anomaly messages and follows the terminal width', () => {
  const r = withAnomalies(calibReport({ nLayer: 6, set: { '3:ffn_down': 0.5 } }));
  const narrow = formatCalibrationReport(r, { isTTY: true, columns: 80 });
  assert.ok(narrow.split('\n').slice(0, 9).every((l) => [...l].length <= 80));
  assert.match(narrow, /outlier-loss: layer 3 ffn_down: loss 0\.500 is [\d.]+× the median [\de.-]+ of ffn_down in layers 1…5 \(--loss-outlier-factor 10\)$/m);
  assert.match(formatCalibrationReport(r, { isTTY: true, columns: 200 }), / down /);
  assert.doesNotMatch(formatCalibrationReport(r, { isTTY: false }), / down /); // piped: 100 columns
  assert.equal(lossText(NaN), 'NaN');
  assert.equal(lossText(-Infinity), '-Inf');
  assert.equal(lossText(0), '0');
});

const ev = (o: Partial<CalibProgressEvent>): CalibProgressEvent => ({ type: 'calibrate', state: 'module', layer: 2, nLayer: 8, samples: 128, seqlen: 512, seconds: 75, ...o });

test('progress text: layer i/N, the module and its loss, samples, elapsed and ETA', () => {
  assert.equal(calibProgressText(ev({ state: 'start', layer: 0, seconds: 0, method: 'gptq' })), 'calibrate: gptq 8 layers, 128 samples × 512 tokens');
  assert.equal(calibProgressText(ev({ module: 'attn_q', loss: 0.00123, etaSeconds: 4000 })), 'calibrate: layer 3/8 attn_q loss 1.23e-3 · 1m15s, ETA 1h06m · 128 samples × 512 tokens');
  assert.equal(calibProgressText(ev({ state: 'layer', etaSeconds: 125 })), 'calibrate: layer 3/8 done · 1m15s, ETA 2m05s · 128 samples × 512 tokens');
  assert.equal(calibProgressText(ev({ state: 'done', layer: 8, seconds: 200.4, method: 'awq' })), 'calibrate: awq 8 layers done in 3m20s');
  assert.equal(calibProgressText(ev({ module: 'x\x1b[2J' })), 'calibrate: layer 3/8 x\\x1b[2J · 1m15s · 128 samples × 512 tokens');
  assert.equal(formatDuration(8.4), '8s');
});

async function* calibrationJob(): AsyncGenerator<PipelineEvent, GroupwiseSummary> {
  yield ev({ state: 'start', layer: 0, seconds: 0, nLayer: 2, method: 'gptq' });
  for (let l = 0; l < 2; l++) {
    for (const m of ['attn_q', 'ffn_down']) yield ev({ layer: l, nLayer: 2, module: m, loss: 1e-3 });
    yield ev({ state: 'layer', layer: l, nLayer: 2, etaSeconds: 10 * (1 - l) });
  }
  yield ev({ state: 'done', layer: 2, nLayer: 2, seconds: 20 });
  return { kind: 'gptq', method: 'gptq', output: 'out', outputBytes: 1, seconds: 1, tensors: 1, quantization_config: {}, files: [], packedLayers: 1, keptInFp16: [], calibration: calibReport({ nLayer: 2 }) };
}

test('headless: piped, one line per layer (no module lines); on a TTY the module line is rewritten in place', async () => {
  const sink = (tty: boolean) => { const s = { text: '', isTTY: tty, write(x: string) { s.text += x; } }; return s; };
  const err = sink(false);
  const out = sink(false);
  await runHeadless(calibrationJob(), { stderr: err, stdout: out, formatResult: () => 'ok' });
  assert.deepEqual(err.text.trimEnd().split('\n'), [
    'calibrate: gptq 2 layers, 128 samples × 512 tokens',
    'calibrate: layer 1/2 done · 1m15s, ETA 10s · 128 samples × 512 tokens',
    'calibrate: layer 2/2 done · 1m15s, ETA 0s · 128 samples × 512 tokens',
    'calibrate: 2 layers done in 20s',
  ]);
  const tty = sink(true);
  await runHeadless(calibrationJob(), { stderr: tty, stdout: sink(false), formatResult: () => 'ok' });
  assert.match(tty.text, /calibrate: layer 1\/2 attn_q loss 1\.00e-3 · [^\n]*\r\x1b\[Kcalibrate: layer 1\/2 ffn_down/);
  // --jsonl passes the events through as they are (the contract the calibration loops emit).
  const jl = sink(false);
  await runHeadless(calibrationJob(), { jsonl: true, stdout: jl, stderr: sink(false) });
  const first = JSON.parse(jl.text.split('\n')[0]!);
  assert.deepEqual(first, { type: 'calibrate', state: 'start', layer: 0, nLayer: 2, samples: 128, seqlen: 512, seconds: 0, method: 'gptq' });
});
