// The batch's human progress: a rewritten live line on a TTY, plain job lines when piped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchProgressLine } from '../src/batch/progress-line.ts';
import { jobEventLine } from '../src/batch/summary-text.ts';
import type { BatchEvent } from '../src/batch/run-batch.ts';

const job = { id: 2, source: '/m', type: 'q4_0', output: '/o.gguf' };
const events: BatchEvent[] = [
  { type: 'job', state: 'start', job },
  { type: 'phase', phase: 'write', message: 'writing', job: 2 },
  { type: 'tensor', state: 'progress', name: 'a', index: 0, count: 2, sourceType: 'F32', targetType: 'Q4_0', shape: [32], job: 2 },
  { type: 'tensor', state: 'done', name: 'a', index: 0, count: 2, sourceType: 'F32', targetType: 'Q4_0', shape: [32], job: 2 },
  { type: 'tensor', state: 'done', name: 'b', index: 1, count: 2, sourceType: 'F32', targetType: 'Q4_0', shape: [32], job: 2 },
  { type: 'job', state: 'done', job, outcome: { ...job, status: 'done', seconds: 1.25, outputBytes: 10 } },
];

function run(isTTY: boolean): string {
  let out = '';
  const live = new BatchProgressLine({ isTTY, write: (s: string) => { out += s; } });
  for (const ev of events) live.update(ev, jobEventLine(ev));
  live.clear();
  return out;
}

test('piped: one plain line per job event, no control characters', () => {
  assert.equal(run(false), 'job 2 /m → q4_0: started\njob 2 /m → q4_0: done in 1.3 s → /o.gguf\n');
});

test('TTY: a live line with each running job\'s tensor count, cleared before job lines and at the end', () => {
  const out = run(true);
  assert.equal(out, [
    'job 2 /m → q4_0: started\n', 'running: #2 q4_0 …',
    '\r\x1b[K', 'running: #2 q4_0 1/2',
    '\r\x1b[K', 'running: #2 q4_0 2/2',
    '\r\x1b[K', 'job 2 /m → q4_0: done in 1.3 s → /o.gguf\n',
  ].join(''));
});
