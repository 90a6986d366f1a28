/**
 * Importance matrices in batch files (issue 13 in the batch flow): `imatrix: FILE|auto` with
 * `chunks`/`ctx`, paths read against the batch file's folder, one `auto` computation per source for
 * all of its types, the outputs byte-equal to single convert/quantize runs with the same options,
 * and the misuses refused with the file and line.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBatchSpec } from '../src/batch/spec.ts';
import { expandJobs } from '../src/batch/jobs.ts';
import { convertModel } from '../src/pipeline/convert.ts';
import { quantizeGguf } from '../src/pipeline/quantize.ts';
import { imatrixJob } from '../src/pipeline/imatrix.ts';
import type { PipelineEvent } from '../src/pipeline/events.ts';
import { ForgeError } from '../formats/errors.ts';
import { STORIES_F32 } from './quantize-fixtures.ts';
import { runCli } from './support/cli.ts';

const ROOT = join(import.meta.dirname, '..');
const SAMPLE = join(ROOT, 'samples/stories260K');
const CALIB = join(ROOT, 'test/fixtures/imatrix-calib-stories.txt');
const dir = mkdtempSync(join(tmpdir(), 'gguf-forge-batch-imatrix-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function drain<T>(gen: AsyncGenerator<PipelineEvent, T>): Promise<T> {
  for (let s = await gen.next(); ; s = await gen.next()) if (s.done) return s.value;
}

const tensorData = (file: string) => readFileSync(file);

test('imatrix: auto in a batch is computed once per source and gives the bytes of convert --imatrix auto', async () => {
  copyFileSync(CALIB, join(dir, 'calib.txt'));
  writeFileSync(join(dir, 'auto.yaml'), [
    'defaults:',
    '  output: "out/{name}-{type}.gguf"',
    '  validate: false',
    'jobs:',
    `  - source: ${SAMPLE}`,
    '    types: [q4_1, iq4_nl]',
    '    imatrix: auto',
    '    calib: calib.txt', // relative to the batch file
    '    ctx: 64',
    '    chunks: 3',
  ].join('\n'));
  const r = runCli(['batch', 'auto.yaml', '--jsonl', '--threads', '1'], { cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const opened = events.filter((e) => e.type === 'phase' && e.phase === 'imatrix' && /^opening /.test(e.message));
  assert.equal(opened.length, 1, 'one imatrix computation for the two types of one source');
  for (const type of ['q4_1', 'iq4_nl']) {
    const want = join(dir, `single-${type}.gguf`);
    await drain(convertModel({ source: SAMPLE, output: want, fileType: type, imatrix: 'auto', calib: { file: join(dir, 'calib.txt'), ctx: 64, chunks: 3 }, threads: 1, validate: false }));
    const got = join(dir, 'out', `stories260K-${type.toUpperCase()}.gguf`);
    assert.ok(tensorData(got).equals(tensorData(want)), `${type}: batch output differs from convert --imatrix auto`);
  }
});

test('imatrix: FILE in a batch quantize job gives the bytes of quantize --imatrix FILE', async () => {
  const im = join(dir, 'stories.imatrix.gguf');
  await drain(imatrixJob({ model: SAMPLE, output: im, calibFile: CALIB, ctx: 64, threads: 1 }));
  writeFileSync(join(dir, 'file.yaml'), [
    'jobs:',
    `  - source: ${STORIES_F32}`,
    '    types: [q4_1]',
    '    imatrix: stories.imatrix.gguf',
    '    output: "q/{name}-{type}.gguf"',
    '    validate: false',
  ].join('\n'));
  const r = runCli(['batch', 'file.yaml', '--threads', '1'], { cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  const want = join(dir, 'single-quantize.gguf');
  await drain(quantizeGguf({ input: STORIES_F32, output: want, fileType: 'q4_1', imatrix: im, threads: 1, validate: false }));
  const name = STORIES_F32.split('/').pop()!.replace(/\.gguf$/, '');
  assert.ok(tensorData(join(dir, 'q', `${name}-Q4_1.gguf`)).equals(tensorData(want)));
});

test('misused imatrix keys are refused with the batch file and line', () => {
  const cases: [string[], RegExp][] = [
    [[`  - source: ${SAMPLE}`, '    type: awq', '    imatrix: auto'], /jobs\.yaml:2: .*imatrix.* not awq/],
    [['  - source: model.gguf', '    type: q4_K_M', '    imatrix: auto'], /jobs\.yaml:2: .*imatrix: auto.* GGUF source/],
    [[`  - source: ${SAMPLE}`, '    type: q4_K_M', '    chunks: 4'], /jobs\.yaml:2: .*chunks.*imatrix: auto/],
    [[`  - source: ${SAMPLE}`, '    type: q4_K_M', '    imatrix: m.dat', '    ctx: 64'], /jobs\.yaml:2: .*not an imatrix file/],
    [[`  - source: ${SAMPLE}`, '    type: q4_K_M', '    chunks: -1', '    imatrix: auto'], /jobs\.yaml:4: `chunks`/],
  ];
  for (const [lines, want] of cases) {
    assert.throws(() => expandJobs(parseBatchSpec(['jobs:', ...lines].join('\n'), 'jobs.yaml')), (e: unknown) => e instanceof ForgeError && want.test(e.message), lines.join(' / '));
  }
  const [job] = expandJobs(parseBatchSpec(['jobs:', `  - source: ${SAMPLE}`, '    type: q4_K_M', '    imatrix: sub/m.dat', '    calib: c.txt'].join('\n'), join(dir, 'jobs.yaml')));
  assert.equal(job!.options.imatrix, join(dir, 'sub/m.dat'));
  assert.equal(job!.options.calib, join(dir, 'c.txt'));
});
