/**
 * The TUI report screen offers eval: `e` runs the eval pipeline on the written output against its
 * source and shows PPL and KL beside the per-layer weight error.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import React from 'react';
import { render } from 'ink-testing-library';
import { Text } from 'ink';
import { Report } from '../src/tui/screens/report.tsx';
import { useReportEval } from '../src/tui/screens/report-eval.tsx';
import type { JobSummary } from '../src/pipeline/events.ts';
import { convertModel } from '../src/pipeline/convert.ts';
import { runJob } from './support/run-job.ts';

const STORIES = join(import.meta.dirname, '..', 'samples', 'stories260K');
const dir = mkdtempSync(join(tmpdir(), 'gguf-forge-eval-tui-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let summary: JobSummary;

async function waitFor(frame: () => string, re: RegExp, ms: number): Promise<string> {
  const deadline = Date.now() + ms;
  while (!re.test(frame()) && Date.now() < deadline) {
    assert.doesNotMatch(frame(), /eval failed/);
    await new Promise((r) => setTimeout(r, 100));
  }
  return frame();
}

test('report screen: e starts eval of the output against its source, beside the per-layer error', async () => {
  summary = (await runJob(convertModel({ source: STORIES, fileType: 'q4_0', output: join(dir, 'q4.gguf'), threads: 1 }))).result;
  const ui = render(<Report summary={summary} active onAgain={() => {}} onQuit={() => {}} />);
  try {
    assert.match(ui.lastFrame()!, /e: evaluate PPL and KL divergence against .*stories260K/);
    ui.stdin.write('e');
    const frame = await waitFor(() => ui.lastFrame()!, /eval against .*: chunk \d+\/\d+/, 60_000);
    assert.match(frame, /round-trip error per layer[\s\S]*eval against .*stories260K: chunk \d+\/\d+/);
  } finally {
    ui.unmount();
  }
});

test('the report eval finishes with PPL and KL figures', async () => {
  function View() {
    const v = useReportEval(summary, { textFile: join(STORIES, 'eval.txt'), ctx: 128 });
    React.useEffect(() => v.start(), []);
    return <>{v.line ?? <Text>none</Text>}</>;
  }
  const ui = render(<View />);
  try {
    const frame = (await waitFor(() => ui.lastFrame()!, /KL mean/, 120_000)).replace(/\n/g, '');
    assert.match(frame, /eval \(10 chunks of 128\): PPL [\d.]+ ± [\d.]+ vs source 3\.56\d+ \(ratio [\d.]+\), KL mean 0\.0[5-8]/);
  } finally {
    ui.unmount();
  }
});
