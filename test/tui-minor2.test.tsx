// Issue 15's last minor TUI items, through ink-testing-library: the target list shows the
// planner's exact output size per type for a local folder (a labelled estimate for hf: sources),
// and Hub search results have column headers, size, parameters, downloads and a gated flag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import React from 'react';
import { render } from 'ink-testing-library';
import { Target } from '../src/tui/screens/target.tsx';
import { planConvert } from '../src/pipeline/plan-convert.ts';
import { drain } from '../src/pipeline/drain.ts';
import { formatBytes } from '../src/format-units.ts';
import { waitFor, waitForText } from './support/tui-harness.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const SAMPLE = path.join(ROOT, 'samples/stories260K');
const noop = () => {};
const planned = async (fileType: string) => (await drain(planConvert({ source: SAMPLE, fileType }), () => {})).outputBytes;
const row = (frame: string, type: string) => frame.split('\n').find((l) => new RegExp(`^[ ›]*${type} `).test(l.trimStart()) || l.includes(` ${type} `)) ?? '';

test('target list: a local folder shows the planner\'s exact size per type (q3_K_M as the plan screen says)', async () => {
  const [s, m, l] = await Promise.all(['q3_K_S', 'q3_K_M', 'q3_K_L'].map(planned));
  assert.ok(new Set([s, m, l]).size === 3, `the three q3_K sizes differ: ${s} ${m} ${l}`);
  const r = render(<Target name="stories260K" source={SAMPLE} parameters={292_000} active defaultOutput={(x) => `o-${x}.gguf`} onChoose={noop} onBack={noop} />);
  try {
    const frame = await waitFor(r, (f) => row(f, 'q3_K_L').includes(formatBytes(l!)) && row(f, 'q3_K_M').includes(formatBytes(m!)), 'exact q3_K sizes');
    assert.match(row(frame, 'q3_K_M'), new RegExp(` ${formatBytes(m!).replace('.', '\\.')} `));
    assert.match(row(frame, 'q3_K_S'), new RegExp(` ${formatBytes(s!).replace('.', '\\.')} `));
    assert.ok(!/est\. size/.test(frame), 'exact sizes are not labelled as estimates');
  } finally {
    r.unmount();
  }
});

test('target list: sizes show "…" until planned; an hf: source keeps the labelled estimate (no network)', async () => {
  const r = render(<Target name="m" source="hf:org/model" parameters={8_000} active defaultOutput={(x) => `o-${x}.gguf`} onChoose={noop} onBack={noop} />);
  try {
    const frame = await waitForText(r, 'est. size');
    assert.match(row(frame, 'q8_0'), /~8\.30 KiB|~\d/);
    assert.ok(!/ … {3}/.test(frame), 'nothing pending for an hf: source');
  } finally {
    r.unmount();
  }
  const t = render(<Target name="stories260K" source={SAMPLE} parameters={292_000} active defaultOutput={(x) => `o-${x}.gguf`} onChoose={noop} onBack={noop} />);
  try {
    assert.match(row(t.lastFrame() ?? '', 'q4_0'), / … {3}/, 'first frame: sizes not known yet');
  } finally {
    t.unmount();
  }
});
