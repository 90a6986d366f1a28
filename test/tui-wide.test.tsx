/**
 * Issue 15 (layout, minor): at 200 columns the plan's name column stays readable (at most 48
 * characters, not 145), and no line is wider than the terminal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import React from 'react';
import { App } from '../src/tui/app.tsx';
import { convertModel } from '../src/pipeline/convert.ts';
import { openInspector } from '../src/tui/data/inspector-data.ts';
import { KEYS, renderAt } from './support/tui-harness.ts';

const SAMPLE = path.resolve(import.meta.dirname, '../samples/stories260K');

async function until(frame: () => string, text: string, timeoutMs = 30_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const f = frame();
    if (f.includes(text)) return f;
    if (Date.now() > end) throw new Error(`timed out waiting for ${text}; last frame:\n${f}`);
    await new Promise((res) => setTimeout(res, 30));
  }
}

test('at 200 columns the plan table keeps a name column of at most 48 characters and fits the terminal', async () => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'gguf-forge-tui-wide-'));
  const r = renderAt(<App deps={{ convert: convertModel, search: async () => [], cached: async () => [], openInspector, samplePath: SAMPLE, cwd }} />, 200, 50);
  const step = async (k: string) => { await new Promise((res) => setTimeout(res, 80)); r.key(k); };
  try {
    await until(r.lastFrame, 'Open the bundled sample');
    await step('s');
    await until(r.lastFrame, 'supported: this model can be converted');
    await step(KEYS.enter);
    await until(r.lastFrame, 'output type');
    await step(KEYS.down);
    await step(KEYS.down);
    await until(r.lastFrame, '› q8_0');
    await step(KEYS.enter);
    const frame = await until(r.lastFrame, 'Start the conversion?');
    const lines = frame.split('\n');
    const header = lines.find((l) => /^\s+tensor\s+shape/.test(l));
    assert.ok(header, 'the plan table has its header');
    const nameColumn = header!.indexOf('shape') - header!.indexOf('tensor');
    assert.ok(nameColumn <= 48 + 3, `name column is ${nameColumn} characters wide at 200 columns`);
    for (const l of lines) assert.ok([...l].length <= 200, `line wider than the terminal: ${l}`);
  } finally {
    r.unmount();
    fs.rmSync(cwd, { recursive: true, force: true });
  }
});
