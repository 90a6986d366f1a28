// The whole TUI convert flow on the bundled sample through ink-testing-library: keys in, frames
// out, and at the end a valid GGUF on disk (read back with readGguf). Also a cancel mid-run that
// leaves no output and no temporary file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import React from 'react';
import { render } from 'ink-testing-library';
import { App, type TuiDeps } from '../src/tui/app.tsx';
import { convertModel, type ConvertOptions } from '../src/pipeline/convert.ts';
import { openInspector } from '../src/tui/data/inspector-data.ts';
import { readGguf } from '../formats/gguf/reader.ts';
import { convertAwqGptq } from '../src/pipeline/awq-gptq.ts';
import { ensureSamples, SAMPLE as GENERATED } from '../samples/lib/index.ts';
import { KEYS, allOutput, press, waitForText } from './support/tui-harness.ts';

const SAMPLE = path.resolve(import.meta.dirname, '../samples/stories260K');

function deps(cwd: string, over: Partial<TuiDeps> = {}): TuiDeps {
  return {
    convert: convertModel,
    search: async () => [],
    cached: async () => [],
    openInspector,
    samplePath: SAMPLE,
    cwd,
    ...over,
  };
}

test('convert flow: home → sample → summary → q8_0 → plan → run → report → inspector, output valid', async () => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'gguf-forge-tui-'));
  const r = render(<App deps={deps(cwd)} />);
  try {
    await waitForText(r, 'Open the bundled sample');
    await press(r, 's');
    const summary = await waitForText(r, 'supported: this model can be converted');
    assert.match(summary, /architecture\s+LlamaForCausalLM/);
    assert.match(summary, /parameters\s+260,032/);
    await press(r, KEYS.enter);
    const target = await waitForText(r, 'output type');
    assert.match(target, /› q4_0/);
    await press(r, KEYS.down, KEYS.down);
    await waitForText(r, '› q8_0');
    assert.match(r.lastFrame()!, /output: stories260K-Q8_0\.gguf/);
    await press(r, KEYS.enter);
    const plan = await waitForText(r, 'Start the conversion?');
    assert.match(plan, /47 tensors · 5 fallbacks · total 336\.53 KiB/);
    assert.match(plan, /blk\.0\.ffn_down\.weight\s+172×64\s+F32→F16\s+21\.50 KiB fallback/);
    await press(r, KEYS.enter);
    const report = await waitForText(r, 'round-trip error per layer', 60_000);
    const out = path.join(cwd, 'stories260K-Q8_0.gguf');
    assert.match(report, /wrote .*stories260K-Q8_0\.gguf · 336\.53 KiB · 47 tensors/);
    assert.match(report, /layer 0 {3}\d\.\d\de-3 █+/);
    assert.match(report, /worst tensors/);
    assert.match(report, /anomalies: none/);
    // Finished tensors went to the static log with their error figures.
    assert.match(allOutput(r), /✓ 47\/47 blk\.4\.ffn_up\.weight\s+Q8_0\s+11\.42 KiB {2}rel \d\.\d\de-3 {2}SNR \d+\.\d dB/);
    const g = await readGguf(out);
    assert.equal(g.tensors.length, 47);
    assert.equal(g.tensors.find((t) => t.name === 'token_embd.weight')!.type, 8); // Q8_0
    // i: open the output in the inspector.
    await press(r, 'i');
    await waitForText(r, /\[metadata\]/);
    assert.match(r.lastFrame()!, /general\.name\s+"stories260K"/);
    // esc: back to the report; r: run again with another type.
    await press(r, KEYS.escape);
    await waitForText(r, 'i inspect output · e eval · r another type');
    await press(r, 'r');
    // Back on the target list, the last choice (q8_0) is still selected.
    await waitForText(r, /output type · stories260K[\s\S]*› q8_0/);
    // The same type again: the output exists, so enter waits for f (force) before planning.
    await waitForText(r, 'stories260K-Q8_0.gguf exists: press f to overwrite it');
    await press(r, KEYS.enter);
    assert.match(r.lastFrame()!, /output type/);
    await press(r, 'f');
    await waitForText(r, 'it will be replaced when the new one is complete');
    await press(r, KEYS.enter);
    await waitForText(r, 'Start the conversion?');
    await press(r, 'y');
    await waitForText(r, 'anomalies: none', 60_000);
    assert.equal((await readGguf(out)).tensors.length, 47);
    assert.deepEqual(fs.readdirSync(cwd), ['stories260K-Q8_0.gguf']);
  } finally {
    r.unmount();
    fs.rmSync(cwd, { recursive: true, force: true });
  }
});

test('cancel mid-run: esc asks, y aborts, nothing partial is left, and the target screen says so', async () => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'gguf-forge-tui-'));
  // Holds the real pipeline after its first finished tensor until the test has answered the prompt.
  let release!: () => void;
  const gate = new Promise<void>((res) => { release = res; });
  let sawSignal: AbortSignal | undefined;
  async function* gated(opts: ConvertOptions) {
    if (!opts.dryRun) sawSignal = opts.signal;
    const gen = convertModel(opts);
    let step = await gen.next();
    let held = false;
    while (!step.done) {
      yield step.value;
      if (!opts.dryRun && !held && step.value.type === 'tensor' && step.value.state === 'done') { held = true; await gate; }
      step = await gen.next();
    }
    return step.value;
  }
  const r = render(<App deps={deps(cwd, { convert: gated })} />);
  try {
    await waitForText(r, 'Open the bundled sample');
    await press(r, 's');
    await waitForText(r, 'supported');
    await press(r, KEYS.enter);
    await waitForText(r, '› q4_0');
    await press(r, KEYS.enter);
    await waitForText(r, 'Start the conversion?');
    await press(r, 'y');
    await waitForText(r, /tensors .* 1\/47/);
    await press(r, KEYS.escape);
    await waitForText(r, 'Cancel the conversion?');
    await press(r, 'n');
    await waitForText(r, 'esc / ctrl-c cancel');
    await press(r, KEYS.ctrlC);
    await waitForText(r, 'Cancel the conversion?');
    await press(r, 'y');
    assert.equal(sawSignal?.aborted, true);
    release();
    const frame = await waitForText(r, 'Cancelled: no output was written.');
    assert.match(frame, /output type/);
    assert.deepEqual(fs.readdirSync(cwd), [], 'no output and no temporary file');
  } finally {
    release();
    r.unmount();
    fs.rmSync(cwd, { recursive: true, force: true });
  }
});

test('AWQ from the TUI: a typed local folder → awq → confirm → run → report; the checkpoint folder is written', async () => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'gguf-forge-tui-'));
  const tiny = path.join(await ensureSamples(), GENERATED.llama.f32);
  const r = render(<App deps={deps(cwd, { convertGroupwise: convertAwqGptq })} />);
  try {
    await waitForText(r, 'Open the bundled sample');
    await press(r, 'c');
    await waitForText(r, 'Search the Hub, or a local path');
    await press(r, ...tiny, KEYS.enter);
    await waitForText(r, 'supported: this model can be converted');
    await press(r, KEYS.enter);
    await waitForText(r, '› q4_0');
    for (let i = 0; i < 60 && !/› awq/.test(r.lastFrame()!); i++) await press(r, KEYS.down);
    const target = await waitForText(r, /› awq\s+4\.16\s+~?[\d.]+ KiB\s+AWQ int4 g128/);
    assert.match(target, /output: tiny-llama-f32-AWQ\n/);
    await press(r, KEYS.enter);
    const plan = await waitForText(r, /\d+ packed · \d+ kept in fp16/);
    // Calibrated AWQ by default, as the CLI; m switches to round-to-nearest (fast, for this test).
    assert.match(plan, /method awq, calibrated \(m\) · 128 samples \(n\) × 512 tokens \(l\)/);
    assert.match(plan, /bits 4 \(b\) · group 128 \(g\) · asymmetric, zero points \(z\)/);
    await press(r, 'm');
    await waitForText(r, 'method rtn, round-to-nearest: no calibration (m)');
    assert.match(plan, /output .*tiny-llama-f32-AWQ\//);
    await press(r, KEYS.enter);
    const report = await waitForText(r, /anomalies/, 60_000);
    assert.match(report, /wrote .*tiny-llama-f32-AWQ/);
    assert.match(report, /awq-int4-g128/);
    assert.match(report, /i inspect output/);
    const qc = JSON.parse(fs.readFileSync(path.join(cwd, 'tiny-llama-f32-AWQ', 'config.json'), 'utf8')).quantization_config;
    assert.equal(qc.quant_method, 'awq');
    assert.ok(fs.existsSync(path.join(cwd, 'tiny-llama-f32-AWQ', 'model.safetensors')));
  } finally {
    r.unmount();
    fs.rmSync(cwd, { recursive: true, force: true });
  }
});
