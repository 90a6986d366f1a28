// Batch file parsing (YAML and JSON), validation errors that name the line, job expansion with
// output patterns, and --shard slices that cover every job exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { parseBatchSpec } from '../src/batch/spec.ts';
import { expandJobs, parseShard, shardJobs } from '../src/batch/jobs.ts';
import { UsageError } from '../formats/errors.ts';

const FILE = '/tmp/project/jobs.yaml';

function errorOf(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof UsageError, `expected UsageError, got ${err}`);
    return err;
  }
  assert.fail('expected an error');
}

test('YAML batch expands sources × types with {name}/{type}/{index} patterns, defaults and per-job options', () => {
  const spec = parseBatchSpec([
    'defaults:',
    '  output: "out/{name}-{type}.gguf"',
    '  via: f16',
    'jobs:',
    '  - source: models/tiny',
    '    types: [q8_0, Q4_0, q5_K]',
    '  - source: hf:org/Some-Model@main',
    '    type: f16',
    '    output: "{index}-{name}.gguf"',
    '    pure: true',
    '    tensorType: ["attn_v=q8_0"]',
    '  - source: ../other/model.gguf',
    '    types: q4_K_M',
  ].join('\n'), FILE);
  const jobs = expandJobs(spec);
  assert.deepEqual(jobs.map((j) => [j.id, j.kind, j.type, j.output]), [
    [1, 'convert', 'q8_0', '/tmp/project/out/tiny-Q8_0.gguf'],
    [2, 'convert', 'q4_0', '/tmp/project/out/tiny-Q4_0.gguf'],
    [3, 'convert', 'q5_K_M', '/tmp/project/out/tiny-Q5_K_M.gguf'],
    [4, 'convert', 'f16', '/tmp/project/4-Some-Model.gguf'],
    [5, 'quantize', 'q4_K_M', '/tmp/project/out/model-Q4_K_M.gguf'],
  ]);
  assert.equal(jobs[0]!.source, '/tmp/project/models/tiny');
  assert.equal(jobs[3]!.source, 'hf:org/Some-Model@main');
  assert.equal(jobs[4]!.source, '/tmp/other/model.gguf');
  assert.deepEqual(jobs[3]!.options, { output: '{index}-{name}.gguf', via: 'f16', pure: true, tensorType: ['attn_v=q8_0'] });
  assert.equal(jobs[0]!.line, 5);
  assert.equal(jobs[3]!.line, 7);
});

test('JSON batch files parse with the same rules', () => {
  const spec = parseBatchSpec(JSON.stringify({ jobs: [{ source: 'a', types: ['q8_0', 'bf16'] }] }, null, 2), '/w/jobs.json');
  assert.deepEqual(expandJobs(spec).map((j) => path.basename(j.output)), ['a-Q8_0.gguf', 'a-BF16.gguf']);
});

test('invalid batch files give a UsageError naming the file and the line', () => {
  const cases: [string, RegExp][] = [
    ['jobs:\n  - source: a\n    types: [q8_0\n', /jobs\.yaml:\d+: not valid YAML/],
    ['jobz: []\n', /jobs\.yaml:1: unknown top-level key 'jobz'/],
    ['jobs:\n  - source: a\n    typo: q8_0\n    types: [q8_0]\n', /jobs\.yaml:3: unknown key 'typo'/],
    ['jobs:\n  - source: a\n', /jobs\.yaml:2: job 'a' needs `types:`/],
    ['jobs:\n  - types: [q8_0]\n', /jobs\.yaml:2: a job needs `source:`/],
    ['jobs:\n  - source: a\n    types: [q8_0]\n    pure: maybe\n', /jobs\.yaml:4: `pure` must be true or false/],
    ['jobs:\n  - source: a\n    types: [q8_0]\n    via: q4_0\n', /jobs\.yaml:4: `via`: only 'f16' is supported/],
    ['jobs: {}\n', /jobs\.yaml:1: `jobs` must be a list/],
    ['jobs:\n  - source: a\n    types: [gptq]\n    groupSize: big\n', /jobs\.yaml:4: `groupSize`: expected an integer, got 'big'/],
    ['jobs: []\n', /jobs\.yaml:1: `jobs` is empty/],
    ['- a\n', /jobs\.yaml:1: the batch file must be a mapping/],
  ];
  for (const [text, re] of cases) {
    const err = errorOf(() => parseBatchSpec(text, FILE));
    assert.match(err.message, re, text);
    assert.equal(err.kind, 'usage');
  }
});

test('expansion errors name the job line: unknown type, unknown placeholder, two jobs writing one output, awq from GGUF', () => {
  const cases: [string, RegExp][] = [
    ['jobs:\n  - source: a\n    types: [q8_0]\n  - source: b\n    types: [q9_9]\n', /jobs\.yaml:4: unknown or unsupported type 'q9_9'/],
    ['jobs:\n  - source: a\n    types: [q8_0]\n    output: "{model}.gguf"\n', /jobs\.yaml:2: unknown placeholder \{model\}/],
    ['jobs:\n  - source: a\n    types: [q8_0, q4_0]\n    output: "same.gguf"\n', /jobs\.yaml:2: job 2 \(a q4_0\) writes \/tmp\/project\/same\.gguf, as job 1 \(line 2\)/],
    ['jobs:\n  - source: x/a\n    types: [q8_0]\n  - source: y/a\n    types: [q8_0]\n', /jobs\.yaml:4: job 2 .* as job 1 \(line 2\)/],
    ['jobs:\n  - source: m.gguf\n    types: [awq]\n', /jobs\.yaml:2: type awq needs a Hugging Face model folder/],
    ['jobs:\n  - source: "hf:bad"\n    types: [q8_0]\n', /jobs\.yaml:2: malformed Hugging Face source/],
  ];
  for (const [text, re] of cases) assert.match(errorOf(() => expandJobs(parseBatchSpec(text, FILE))).message, re, text);
});

test('--shard i/n: every job exactly once across i = 1..n, the same slice every time', () => {
  const jobs = Array.from({ length: 11 }, (_, k) => k + 1);
  for (let n = 1; n <= 12; n++) {
    const seen: number[] = [];
    for (let i = 1; i <= n; i++) {
      const slice = shardJobs(jobs, parseShard(`${i}/${n}`));
      assert.deepEqual(slice, shardJobs(jobs, { index: i, count: n }));
      seen.push(...slice);
    }
    assert.deepEqual(seen.sort((a, b) => a - b), jobs, `n=${n}`);
  }
  for (const bad of ['0/3', '4/3', '1/0', 'a/b', '2', '1/2/3']) assert.match(errorOf(() => parseShard(bad)).message, /--shard must be i\/n/);
});
