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
import { renderAt, waitFor, waitForText } from './support/tui-harness.ts';
import { Source } from '../src/tui/screens/source.tsx';
import { listModels } from '../src/hub/search.ts';
import { MockHub } from './support/mock-hub.ts';

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

test('Hub search results: column headers; size, params, downloads and gated per model; within 80 columns', async () => {
  const hub = await MockHub.start();
  try {
    hub.models.push(
      { id: 'meta-llama/Llama-3.2-1B-Instruct', downloads: 2_345_678, likes: 900, pipeline_tag: 'text-generation', tags: ['safetensors'], gated: 'manual', safetensors: { parameters: { BF16: 1_235_814_400 }, total: 1_235_814_400 } },
      { id: 'org/stories', downloads: 4321, likes: 12, pipeline_tag: 'text-generation', tags: ['safetensors'], gated: false, safetensors: { parameters: { F32: 292_000 }, total: 292_000 } },
      { id: 'org/stories-gguf', downloads: 10, likes: 1, pipeline_tag: 'text-generation', tags: ['gguf'] },
    );
    const found = await listModels({ query: 'l', endpoint: hub.url });
    const llama = found.find((m) => m.id.startsWith('meta-llama'))!;
    assert.deepEqual([llama.gated, llama.parameters, llama.weightBytes], [true, 1_235_814_400, 2 * 1_235_814_400]);
    const deps = { search: (q: string, signal: AbortSignal) => listModels({ query: q, endpoint: hub.url, signal }), cached: async () => [], debounceMs: 0 };
    for (const columns of [80, 120]) {
      const r = renderAt(<Source mode="convert" active deps={deps} onPick={noop} onBack={noop} />, columns);
      try {
        r.key('r');
        let frame = '';
        for (let i = 0; i < 200 && !(frame = r.lastFrame()).includes('org/stories-gguf'); i++) await new Promise((res) => setTimeout(res, 25));
        const lines = frame.replace(/\x1b\[[0-9;]*m/g, '').split('\n');
        const header = lines.find((l) => /\bmodel\b/.test(l) && /\bsize\b/.test(l)) ?? '';
        for (const title of ['size', 'params', 'downloads', 'gated']) assert.match(header, new RegExp(`\\b${title}\\b`), `${columns} cols header: ${header}`);
        const ll = lines.find((l) => l.includes('meta-llama/Llama-3.2-1B'))!;
        assert.match(ll, new RegExp(`${formatBytes(2 * 1_235_814_400).replace('.', '\\.')}\\s+1\\.2B\\s+2\\.3M\\s+gated`), ll);
        const st = lines.find((l) => / org\/stories /.test(l))!;
        assert.match(st, new RegExp(`${formatBytes(4 * 292_000).replace('.', '\\.')}\\s+292\\.0k\\s+4\\.3k(?!\\s+gated)`), st);
        assert.match(lines.find((l) => l.includes('org/stories-gguf'))!, /\?\s+\?\s+10\b/, 'no safetensors index: size and params unknown');
        for (const l of lines) assert.ok(l.length <= columns, `line wider than ${columns}: ${l}`);
        if (columns === 120) assert.match(header, /\blikes\b/, 'wide terminals get the extra columns');
      } finally {
        r.unmount();
      }
    }
  } finally {
    await hub.close();
  }
});
