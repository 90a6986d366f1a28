// Issue 15's minor TUI items, through ink-testing-library: fast keys are not lost, an existing
// relative path is a path (no Hub search), the target screen remembers its choices, the target
// list groups unavailable types and describes every type, the report counts fallbacks, and the
// layout items (aligned home hotkeys, no "? help" while editing, one hint on a run error).
import type { ConvertSummary } from '../src/pipeline/events.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import React from 'react';
import { render } from 'ink-testing-library';
import { App, type TuiDeps } from '../src/tui/app.tsx';
import { Source } from '../src/tui/screens/source.tsx';
import { Target } from '../src/tui/screens/target.tsx';
import { Report } from '../src/tui/screens/report.tsx';
import { Run } from '../src/tui/screens/run.tsx';
import { Home } from '../src/tui/screens/home.tsx';
import { targetOptions } from '../src/tui/data/targets.ts';
import { convertModel } from '../src/pipeline/convert.ts';
import { openInspector } from '../src/tui/data/inspector-data.ts';
import { KEYS, press, waitForText } from './support/tui-harness.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const noop = () => {};

test('fast keys are not lost: 22 ↓ in one burst move 22 rows; 10 fast backspaces delete 10 characters', async () => {
  const cached = Array.from({ length: 30 }, (_, i) => ({ repo: `org/model-${String(i).padStart(2, '0')}`, dir: `/nowhere/${i}` }));
  const r = render(<Source mode="convert" active deps={{ search: async () => [], cached: async () => cached }} onPick={noop} onBack={noop} />);
  try {
    await waitForText(r, 'org/model-00');
    await press(r, KEYS.down.repeat(22));
    await waitForText(r, '› org/model-22');
  } finally {
    r.unmount();
  }
  const t = render(<Target name="m" parameters={1000} active defaultOutput={(x) => `abcdefghijklmnop-${x}.gguf`} onChoose={noop} onBack={noop} />);
  try {
    await waitForText(t, 'output: abcdefghijklmnop-q4_0.gguf');
    await press(t, 'o');
    // Ten separate key events, each one turn of the event loop apart: faster than Ink renders.
    for (let i = 0; i < 10; i++) { t.stdin.write(KEYS.backspace); await new Promise((res) => setImmediate(res)); }
    await waitForText(t, 'output: abcdefghijklmnop▏');
    await press(t, 'xyz');
    await waitForText(t, 'output: abcdefghijklmnopxyz');
  } finally {
    t.unmount();
  }
});

test('an existing relative path (no ./) is a local folder, not a Hub search', async () => {
  const searched: string[] = [];
  const deps: TuiDeps = { convert: convertModel, openInspector, search: async (q) => { searched.push(q); return []; }, cached: async () => [], samplePath: path.join(ROOT, 'samples/stories260K'), cwd: ROOT, debounceMs: 0 };
  const r = render(<App deps={deps} />);
  try {
    await waitForText(r, 'Open the bundled sample');
    await press(r, 'c');
    await waitForText(r, 'Search the Hub, or a local path');
    for (const ch of 'samples/stories260K') await press(r, ch);
    await waitForText(r, '› local folder samples/stories260K');
    await press(r, KEYS.enter);
    await waitForText(r, 'supported: this model can be converted');
    // Prefixes that are not paths (s, sa, …) may search while typing; the existing path never does.
    assert.ok(!searched.includes('samples/stories260K'), searched.join(', '));
    assert.ok(!searched.includes('samples'), 'samples is a folder here');
  } finally {
    r.unmount();
  }
});

test('the target screen remembers type, --via, --pure, --force and a typed output after a trip to the plan', async () => {
  const deps: TuiDeps = { convert: convertModel, openInspector, search: async () => [], cached: async () => [], samplePath: path.join(ROOT, 'samples/stories260K'), cwd: os.tmpdir() };
  const r = render(<App deps={deps} />);
  try {
    await waitForText(r, 'Open the bundled sample');
    await press(r, 's');
    await waitForText(r, 'supported: this model can be converted');
    await press(r, KEYS.enter);
    await waitForText(r, '› q4_0');
    await press(r, KEYS.down, KEYS.down, 'v', 'p', 'f', 'o');
    for (let i = 0; i < 5; i++) { r.stdin.write(KEYS.backspace); await new Promise((res) => setImmediate(res)); }
    await press(r, '-mine.gguf', KEYS.enter);
    await waitForText(r, '--via f16: on (v)   --pure: on (p)   --force: on (f)');
    await waitForText(r, 'output: stories260K-Q8_0-mine.gguf');
    await press(r, KEYS.enter);
    await waitForText(r, 'plan · q8_0 via f16 pure');
    await press(r, KEYS.escape);
    const back = await waitForText(r, 'output type');
    assert.match(back, /› q8_0/);
    assert.match(back, /--via f16: on \(v\) {3}--pure: on \(p\) {3}--force: on \(f\)/);
    assert.match(back, /output: stories260K-Q8_0-mine\.gguf/);
  } finally {
    r.unmount();
  }
});

test('target list: every type has a description; unavailable types come last, as one group, with the reason', () => {
  const opts = targetOptions(260_032, { groupwise: true });
  for (const o of opts) assert.ok(o.available ? o.tradeoff : o.reason, `${o.name} says what it is or why not`);
  assert.match(opts.find((o) => o.name === 'iq4_NL')!.tradeoff, /non-linear/);
  assert.match(opts.find((o) => o.name === 'iq4_XS')!.tradeoff, /non-linear/);
  const firstUnavailable = opts.findIndex((o) => !o.available);
  assert.ok(firstUnavailable > 0);
  assert.ok(opts.slice(firstUnavailable).every((o) => !o.available), 'no available type after an unavailable one');
  assert.deepEqual(opts.slice(0, 3).map((o) => o.name), ['q4_0', 'q5_K_M', 'q8_0']);
});

test('the report counts the fallbacks', async () => {
  const summary: ConvertSummary = {
    kind: 'convert', output: '/o.gguf', outputBytes: 1000, seconds: 1, tensors: 47, fallbacks: 36, fileType: 'Q5_K_M', headerBytes: 100,
    plan: [], source: 'samples/stories260K', dir: 'samples/stories260K', architecture: 'llama', parameters: 260000,
  };
  const r = render(<Report summary={summary} active onAgain={noop} onQuit={noop} />);
  try {
    await waitForText(r, '36 of 47 tensors fell back to another type');
  } finally {
    r.unmount();
  }
});

test('layout: home hotkeys in one column; no "? help" while editing the output; a run error shows one hint', async () => {
  const h = render(<Home active onChoose={noop} />);
  try {
    const frame = await waitForText(h, 'Quit');
    const cols = frame.split('\n').filter((l) => /\s[cisq]$/.test(l)).map((l) => l.length);
    assert.equal(cols.length, 4, frame);
    assert.equal(new Set(cols).size, 1, frame);
  } finally {
    h.unmount();
  }
  const t = render(<Target name="m" parameters={1000} active defaultOutput={(x) => `m-${x}.gguf`} onChoose={noop} onBack={noop} />);
  try {
    assert.match(await waitForText(t, 'output: m-q4_0.gguf'), /\? help/);
    await press(t, 'o');
    const editing = await waitForText(t, 'type the output path');
    assert.doesNotMatch(editing, /\? help/);
  } finally {
    t.unmount();
  }
  // eslint-disable-next-line require-yield
  const failing = async function* () { throw new Error('disk on fire'); };
  const run = render(<Run start={failing as never} title="x" active onDone={noop} onCancelled={noop} onBack={noop} />);
  try {
    const frame = await waitForText(run, 'disk on fire');
    assert.match(frame, /esc back/);
    assert.doesNotMatch(frame, /cancel/);
  } finally {
    run.unmount();
  }
});
