/**
 * The TUI plans a conversion once: the plan screen's plan (src/pipeline/plan-convert.ts) is the
 * one the run screen executes. Counted on the real pipeline: the planner announces itself with one
 * `plan` phase event per planning, and the run call receives the plan object the plan screen made.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import React from 'react';
import { render } from 'ink-testing-library';
import { App, type TuiDeps } from '../src/tui/app.tsx';
import { convertModel, type ConvertOptions } from '../src/pipeline/convert.ts';
import type { ConvertPlan } from '../src/pipeline/plan.ts';
import { openInspector } from '../src/tui/data/inspector-data.ts';
import { readGguf } from '../formats/gguf/reader.ts';
import { KEYS, press, waitForText } from './support/tui-harness.ts';

const SAMPLE = path.resolve(import.meta.dirname, '../samples/stories260K');

test('a TUI conversion calls the planner once, and the run executes the plan screen\'s plan', async () => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'gguf-forge-tui-once-'));
  let plannings = 0;
  const calls: ConvertOptions[] = [];
  const made: ConvertPlan[] = [];
  const convert: TuiDeps['convert'] = async function* (opts) {
    calls.push(opts);
    const gen = convertModel({ ...opts, onPlan: (p) => { made.push(p); opts.onPlan?.(p); } });
    for (let step = await gen.next(); ; step = await gen.next()) {
      if (step.done) return step.value;
      if (step.value.type === 'phase' && step.value.phase === 'plan') plannings++;
      yield step.value;
    }
  };
  const r = render(<App deps={{ convert, search: async () => [], cached: async () => [], openInspector, samplePath: SAMPLE, cwd }} />);
  try {
    await waitForText(r, 'Open the bundled sample');
    await press(r, 's');
    await waitForText(r, 'supported: this model can be converted');
    await press(r, KEYS.enter);
    await waitForText(r, 'output type');
    await press(r, KEYS.down, KEYS.down);
    await waitForText(r, '› q8_0');
    await press(r, KEYS.enter);
    await waitForText(r, 'Start the conversion?');
    await press(r, KEYS.enter);
    await waitForText(r, 'anomalies: none', 60_000);
    assert.equal(plannings, 1, 'the planner ran once for plan screen and run together');
    assert.equal(calls.length, 2, 'one call for the plan screen, one for the run');
    assert.equal(calls[0]!.dryRun, true);
    assert.equal(calls[1]!.plan, made[0], 'the run executed the plan screen\'s plan object');
    assert.equal((await readGguf(path.join(cwd, 'stories260K-Q8_0.gguf'))).tensors.length, made[0]!.tensors.length);
  } finally {
    r.unmount();
    fs.rmSync(cwd, { recursive: true, force: true });
  }
});
