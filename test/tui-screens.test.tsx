// Each TUI screen through ink-testing-library: keys in, frames out. The Hub is a fake fetch or a
// closed port on 127.0.0.1; models are the bundled sample and folders built in a temp dir.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from './support/cli.ts';
import React from 'react';
import { render } from 'ink-testing-library';
import { App } from '../src/tui/app.tsx';
import { Source, type SourcePick } from '../src/tui/screens/source.tsx';
import { Summary } from '../src/tui/screens/summary.tsx';
import { Target, type TargetChoice } from '../src/tui/screens/target.tsx';
import { Inspector } from '../src/tui/screens/inspector.tsx';
import { Help } from '../src/tui/screens/help.tsx';
import { listModels } from '../src/hub/search.ts';
import { listCachedModels } from '../src/tui/data/hf-cache.ts';
import { openInspector } from '../src/tui/data/inspector-data.ts';
import { convertModel } from '../src/pipeline/convert.ts';
import { KEYMAP } from '../src/tui/keymap.ts';
import { shouldStartTui } from '../src/tui/should-start.ts';
import { colorEnabled, layoutWidth, tone } from '../src/tui/theme.ts';
import { KEYS, press, renderAt, waitForText } from './support/tui-harness.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const SAMPLE = path.join(ROOT, 'samples/stories260K');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'gguf-forge-tui-'));
const noop = () => {};

const HUB_MODELS = [
  { id: 'org/tiny-llama', downloads: 12345, likes: 67, tags: ['safetensors'], pipeline_tag: 'text-generation' },
  { id: 'org/tiny-llama-GGUF', downloads: 999, likes: 3, tags: ['gguf'], pipeline_tag: 'text-generation' },
  { id: 'org/not-a-model', downloads: 1, likes: 0, tags: ['pytorch'], pipeline_tag: 'text-generation' },
];

function fakeHub(status = 200) {
  const queries: string[] = [];
  const fetch = (async (url: string | URL) => {
    queries.push(new URL(String(url)).searchParams.get('search') ?? '');
    if (status !== 200) return new Response('{}', { status });
    return new Response(JSON.stringify(HUB_MODELS), { status: 200, headers: { 'content-type': 'application/json' } });
  }) as typeof globalThis.fetch;
  return { queries, search: (q: string, signal: AbortSignal) => listModels({ query: q, endpoint: 'http://127.0.0.1:9', fetch, signal }) };
}

test('source: Hub search as you type is debounced and shows downloads, likes and safetensors/GGUF', async () => {
  const hub = fakeHub();
  let picked: SourcePick | undefined;
  const r = render(<Source mode="convert" active deps={{ search: hub.search, cached: async () => [], debounceMs: 250 }} onPick={(p) => { picked = p; }} onBack={noop} />);
  try {
    await press(r, ...'tiny');
    const frame = await waitForText(r, 'org/tiny-llama-GGUF');
    assert.deepEqual(hub.queries, ['tiny'], 'one search for the whole word');
    assert.match(frame, /org\/tiny-llama\s+\?\s+\?\s+12\.3k\s+st -{4}\s+67/);
    assert.match(frame, /org\/tiny-llama-GGUF\s+\?\s+\?\s+999\s+-- gguf\s+3/);
    assert.doesNotMatch(frame, /not-a-model/);
    await press(r, KEYS.down, KEYS.enter);
    assert.equal(picked?.kind, 'hub');
    assert.equal(picked?.kind === 'hub' && picked.id, 'org/tiny-llama-GGUF');
  } finally {
    r.unmount();
  }
});

test('source: Hub errors (401, 404, offline) are a message on the screen, and typing still works', async () => {
  for (const status of [401, 404]) {
    const hub = fakeHub(status);
    const r = render(<Source mode="convert" active deps={{ search: hub.search, cached: async () => [], debounceMs: 10 }} onPick={noop} onBack={noop} />);
    try {
      await press(r, 'x');
      const frame = await waitForText(r, 'Hub search failed');
      assert.match(frame, status === 401 ? /access denied \(HTTP 401\)/ : /not found on the Hub \(HTTP 404\)/);
      await press(r, 'y');
      await waitForText(r, /Hub, or a local path: xy/);
    } finally {
      r.unmount();
    }
  }
  // Offline: nothing listens on 127.0.0.1:1.
  const offline = (q: string, signal: AbortSignal) => listModels({ query: q, endpoint: 'http://127.0.0.1:1', signal });
  const r = render(<Source mode="convert" active deps={{ search: offline, cached: async () => [], debounceMs: 10 }} onPick={noop} onBack={noop} />);
  try {
    await press(r, 'q');
    assert.match(await waitForText(r, 'Hub search failed', 30_000), /connection to the Hub failed/);
  } finally {
    r.unmount();
  }
});

test('source: models in the HF cache are offered with no query, and a typed path is a local folder (no search)', async () => {
  const cache = tmp();
  const snap = path.join(cache, 'models--org--cached-model', 'snapshots', 'abc123');
  fs.mkdirSync(snap, { recursive: true });
  fs.writeFileSync(path.join(snap, 'config.json'), '{}');
  fs.mkdirSync(path.join(cache, 'models--org--no-snapshot'));
  const hub = fakeHub();
  const picks: SourcePick[] = [];
  const r = render(<Source mode="convert" active deps={{ search: hub.search, cached: () => listCachedModels(cache), debounceMs: 10 }} onPick={(p) => picks.push(p)} onBack={noop} />);
  try {
    const frame = await waitForText(r, 'org/cached-model');
    assert.match(frame, /already in the HF cache/);
    assert.doesNotMatch(frame, /no-snapshot/);
    await press(r, KEYS.enter);
    assert.deepEqual(picks[0], { kind: 'local', dir: snap, label: 'org/cached-model' });
    await press(r, ...'./models/x');
    await waitForText(r, 'local folder ./models/x');
    await press(r, KEYS.enter);
    assert.deepEqual(picks[1], { kind: 'local', dir: './models/x', label: './models/x' });
    assert.deepEqual(hub.queries, []);
  } finally {
    r.unmount();
    fs.rmSync(cache, { recursive: true, force: true });
  }
});

test('summary: an unsupported architecture says why and cannot go on', async () => {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ architectures: ['GPT2LMHeadModel'], hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 1, intermediate_size: 8, vocab_size: 8, torch_dtype: 'float16' }));
  let next = 0;
  const r = render(<Summary target={{ kind: 'local', dir, label: dir }} active onNext={() => next++} onBack={noop} />);
  try {
    const frame = await waitForText(r, 'not supported');
    assert.match(frame, /architecture\s+GPT2LMHeadModel/);
    assert.match(frame, /dtype\s+float16/);
    assert.match(frame, /tokenizer\s+none found/);
    assert.match(frame, /files\s+1 files/);
    assert.match(frame.replace(/\s+/g, ' '), /architecture 'GPT2LMHeadModel' is not supported; supported: LlamaForCausalLM/);
    await press(r, KEYS.enter);
    assert.equal(next, 0);
  } finally {
    r.unmount();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('target: q4_0, q5_K_M, q8_0 first with bpw, size and trade-off; unavailable types say why; options toggle', async () => {
  const chosen: TargetChoice[] = [];
  const r = render(<Target name="m" parameters={1_000_000} active defaultOutput={(t) => `m-${t}.gguf`} onChoose={(c) => chosen.push(c)} onBack={noop} />);
  try {
    const frame = await waitForText(r, 'output type');
    const rows = frame.split('\n').filter((l) => /^\s*(›\s)?\s*[a-z]\w+\s+\d+\.\d\d\s/.test(l)).map((l) => l.replace('›', '').trim().split(/\s+/)[0]);
    assert.deepEqual(rows.slice(0, 3), ['q4_0', 'q5_K_M', 'q8_0']);
    assert.match(frame, /q8_0\s+8\.50\s+~1\.01 MiB\s+nearly lossless/);
    assert.match(frame, /q4_0\s+4\.50\s+~549\.32 KiB/);
    await press(r, 'v', 'p');
    await waitForText(r, '--via f16: on (v)   --pure: on (p)');
    await press(r, 'o', ...Array(5).fill(KEYS.backspace), ...'-x.gguf', KEYS.enter);
    await waitForText(r, 'output: m-q4_0-x.gguf');
    await press(r, KEYS.enter);
    assert.deepEqual(chosen, [{ fileType: 'q4_0', output: 'm-q4_0-x.gguf', viaF16: true, pure: true, force: false }]);
    // Page down to the end, the unavailable group (imatrix-only i-quants among it): shown with the reason; enter does nothing.
    await press(r, ...Array(6).fill('\u001B[6~'));
    const far = await waitForText(r, /› \S+.*unavailable/);
    assert.match(far, /unavailable: i-quants need an importance matrix/);
    await press(r, KEYS.enter);
    assert.equal(chosen.length, 1);
  } finally {
    r.unmount();
  }
});

test('inspector: metadata arrays summarised and expandable, tensor filter/sort, histogram and first block, summary by type', async () => {
  const file = path.join(SAMPLE, 'reference-convert-f32.gguf');
  const r = render(<Inspector target={file} open={openInspector} active onBack={noop} onQuit={noop} />);
  try {
    await waitForText(r, '[metadata]');
    let frame = r.lastFrame()!;
    assert.match(frame, /general\.architecture\s+"llama"/);
    // Move to the token list and expand it.
    for (let i = 0; i < 40 && !/› tokenizer\.ggml\.tokens/.test(r.lastFrame()!); i++) await press(r, KEYS.down);
    frame = await waitForText(r, /› tokenizer\.ggml\.tokens\s+\[STRING × 512\] "<unk>", "<s>", "<\/s>"/);
    await press(r, KEYS.enter);
    frame = await waitForText(r, 'tokenizer.ggml.tokens (512 × STRING)');
    await press(r, KEYS.tab);
    await waitForText(r, '[tensors]');
    await press(r, '/', ...'attn_q', KEYS.enter);
    frame = await waitForText(r, 'sorted by file order · 5 of 47');
    assert.match(frame, /› blk\.0\.attn_q\.weight\s+F32\s+64×64\s+16\.00 KiB/);
    frame = await waitForText(r, /values .*\(all values\)/);
    assert.match(frame, /shape \[64, 64\] · F32 · offset \d+ \(file \d+\) · 16,384 bytes · 32\.00 bpw/);
    assert.match(await waitForText(r, 'block 0 of 4096'), /value\s+-?\d/);
    await press(r, '/', ...'\u007F'.repeat(6), KEYS.enter, 's');
    frame = await waitForText(r, 'sorted by size · 47 of 47');
    assert.match(frame, /› (token_embd|output)\.weight\s+F32\s+64×512/);
    await press(r, KEYS.tab);
    frame = await waitForText(r, '[types]');
    assert.match(frame, /F32\s+47\s+\d/);
    assert.match(frame, /100\.0%/);
  } finally {
    r.unmount();
  }
});

test('help overlay (?) lists the bindings of the screen underneath (and the global ones); ? again closes it', async () => {
  const r = render(<App deps={{ convert: convertModel, search: async () => [], cached: async () => [], openInspector, samplePath: SAMPLE, cwd: os.tmpdir() }} />);
  try {
    await waitForText(r, 'Open the bundled sample');
    await press(r, '?');
    const frame = await waitForText(r, 'keys · home');
    for (const b of KEYMAP.filter((x) => ['home', 'list', 'global'].includes(x.scope))) assert.ok(frame.includes(b.description), `help lists "${b.description}"`);
    for (const b of KEYMAP.filter((x) => x.scope === 'inspector' && x.action !== 'quit')) assert.ok(!frame.includes(b.description), `home help leaves out "${b.description}"`);
    await press(r, '?');
    await waitFor(() => !r.lastFrame()!.includes('or esc closes') && r.lastFrame()!.includes('Open the bundled sample'));
  } finally {
    r.unmount();
  }
  async function waitFor(pred: () => boolean) {
    for (let i = 0; i < 200 && !pred(); i++) await new Promise((res) => setTimeout(res, 20));
    assert.ok(pred());
  }
});

test('? typed into a text field is text, not the help overlay', async () => {
  const r = render(<App deps={{ convert: convertModel, search: async () => [], cached: async () => [], openInspector, samplePath: SAMPLE, cwd: os.tmpdir(), debounceMs: 0 }} />);
  try {
    await waitForText(r, 'Open the bundled sample');
    await press(r, 'c');
    await waitForText(r, 'Search the Hub, or a local path');
    for (const ch of 'what?') await press(r, ch);
    const frame = await waitForText(r, 'what?');
    assert.ok(!frame.includes('or esc closes'), 'the help overlay stays closed while typing');
  } finally {
    r.unmount();
  }
});

test('headless rules: TUI only on a TTY without CI or --no-tui; NO_COLOR drops colours; 80 columns minimum', () => {
  const tty = { stdinIsTTY: true, stdoutIsTTY: true };
  assert.equal(shouldStartTui({ ...tty, env: {} }), true);
  assert.equal(shouldStartTui({ ...tty, env: { CI: 'true' } }), false);
  assert.equal(shouldStartTui({ ...tty, env: { CI: '1' } }), false);
  assert.equal(shouldStartTui({ ...tty, env: { CI: 'false' } }), true);
  assert.equal(shouldStartTui({ ...tty, env: {}, noTui: true }), false);
  assert.equal(shouldStartTui({ stdinIsTTY: false, stdoutIsTTY: true, env: {} }), false);
  assert.equal(shouldStartTui({ stdinIsTTY: true, stdoutIsTTY: false, env: {} }), false);
  assert.equal(colorEnabled({ NO_COLOR: '1' }), false);
  assert.equal(colorEnabled({}), true);
  const saved = process.env.NO_COLOR;
  process.env.NO_COLOR = '1';
  try {
    assert.equal(tone('accent'), undefined);
  } finally {
    if (saved === undefined) delete process.env.NO_COLOR; else process.env.NO_COLOR = saved;
  }
  assert.equal(layoutWidth(60), 80);
  assert.equal(layoutWidth(132), 132);
  // The real binary with no arguments and no TTY prints help and exits 0, never an Ink screen.
  for (const args of [[], ['--no-tui']]) {
    const r = runCli(args);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Usage: gguf-forge \[options\] \[command\]/);
    assert.match(r.stdout, /batch \[options\] <jobs-file>/);
    assert.doesNotMatch(r.stdout + r.stderr, /\u001B\[/);
  }
});

test('layout adapts to the terminal width (80 columns minimum): no line wider than the terminal, more text when wider', async () => {
  const target = <Target name="m" parameters={1000} active={false} defaultOutput={(t) => `m-${t}.gguf`} onChoose={noop} onBack={noop} />;
  const lines = new Map<number, string[]>();
  for (const columns of [80, 140]) {
    const r = renderAt(target, columns);
    await new Promise((res) => setTimeout(res, 100));
    lines.set(columns, r.lastFrame().split('\n'));
    r.unmount();
  }
  for (const [columns, ls] of lines) for (const l of ls) assert.ok([...l].length <= columns, `${columns}: ${l}`);
  const q41 = (cols: number) => lines.get(cols)!.find((l) => /^\s+q4_1 /.test(l))!;
  assert.match(q41(80), /per-block minimum; slightly b…$/);
  assert.match(q41(140), /slightly better, slightly bigger$/);
  // A resize re-lays the screen out.
  const r = renderAt(target, 140);
  await new Promise((res) => setTimeout(res, 100));
  assert.match(r.lastFrame(), /slightly bigger\n/);
  r.resize(80);
  await new Promise((res) => setTimeout(res, 200));
  assert.match(r.lastFrame(), /slightly b…\n/);
  r.unmount();
});

test('inspect source: GGUF files of the current folder are offered, filtered as you type; a typed path or hf: target works', async () => {
  const picks: SourcePick[] = [];
  const deps = { search: async () => [], cached: async () => [], localGgufs: async () => ['a-Q8_0.gguf', 'b-Q4_0.gguf'] };
  const r = render(<Source mode="inspect" active deps={deps} onPick={(p) => picks.push(p)} onBack={noop} />);
  try {
    const frame = await waitForText(r, 'inspect b-Q4_0.gguf');
    assert.match(frame, /› inspect a-Q8_0\.gguf/);
    await press(r, KEYS.down, KEYS.enter);
    assert.deepEqual(picks[0], { kind: 'inspect', target: 'b-Q4_0.gguf' });
    await press(r, ...'q8');
    const filtered = await waitForText(r, /› inspect q8\n\s+inspect a-Q8_0\.gguf/);
    assert.doesNotMatch(filtered, /b-Q4_0/);
    await press(r, ...Array(2).fill(KEYS.backspace), ...'hf:org/x/m.gguf', KEYS.enter);
    assert.deepEqual(picks[1], { kind: 'inspect', target: 'hf:org/x/m.gguf' });
  } finally {
    r.unmount();
  }
});

test('the full help (every scope) lists every binding, and scrolls in a 24-row terminal', async () => {
  const r = renderAt(<Help />, 100, 24);
  await new Promise((res) => setTimeout(res, 100));
  const frame = r.lastFrame();
  assert.ok(frame.split('\n').length <= 24, frame);
  const m = /lines 1–(\d+) of (\d+)/.exec(frame);
  assert.ok(m && Number(m[1]) < Number(m[2]), frame);
  const seen = new Set<string>();
  for (let i = 0; i < 12; i++) {
    for (const b of KEYMAP) if (r.lastFrame().includes(b.description)) seen.add(b.description);
    r.key('\u001B[6~'); // PageDown
    await new Promise((res) => setTimeout(res, 60));
  }
  r.unmount();
  for (const b of KEYMAP) assert.ok(seen.has(b.description), `help lists "${b.description}"`);
});