/**
 * Bad importance-matrix inputs to `quantize --imatrix` / `convert --imatrix`, each a typed error
 * naming the file (and tensor) before anything is written: another model's imatrix (sizes, or no
 * name in common), a truncated or corrupt file, a non-finite value; an IQ type without an imatrix
 * is refused with llama.cpp's message (a dry run warns); a tensor missing from the imatrix gets a
 * warning (and, for a type that cannot do without, llama.cpp's error). Plus the CLI's exit codes.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeImatrixGguf } from '../formats/imatrix/write-imatrix.ts';
import type { Imatrix } from '../formats/imatrix/imatrix.ts';
import { quantizeGguf } from '../src/pipeline/quantize.ts';
import { convertModel } from '../src/pipeline/convert.ts';
import type { PipelineEvent } from '../src/pipeline/events.ts';
import { STORIES_F32, writeLlamaGguf } from './quantize-fixtures.ts';
import { rejectsWith } from './support/forge-error.ts';
import { runCli } from './support/cli.ts';

const ROOT = join(import.meta.dirname, '..');
const STORIES_DIR = join(ROOT, 'samples/stories260K');
const dir = mkdtempSync(join(tmpdir(), 'gguf-forge-imatrix-bad-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function run(gen: AsyncGenerator<PipelineEvent, unknown>): Promise<PipelineEvent[]> {
  const events: PipelineEvent[] = [];
  for (let s = await gen.next(); !s.done; s = await gen.next()) events.push(s.value);
  return events;
}

/** An imatrix for stories260K's tensors (64 columns; ffn_down 172), all ones unless changed. */
function storiesImatrix(edit: (name: string, sums: Float32Array) => void = () => {}, names?: string[]): Imatrix {
  const entries = new Map<string, { sums: Float32Array; counts: number[] }>();
  for (let l = 0; l < 5; l++) {
    for (const t of ['attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_gate', 'ffn_up', 'ffn_down']) {
      const name = `blk.${l}.${t}.weight`;
      const sums = new Float32Array(t === 'ffn_down' ? 172 : 64).fill(512);
      edit(name, sums);
      entries.set(name, { sums, counts: [512] });
    }
  }
  if (names) for (const n of [...entries.keys()]) if (!names.includes(n)) entries.delete(n);
  return { entries, datasets: ['calib.txt'], chunkCount: 1, chunkSize: 512, legacy: false };
}

const quantize = (imatrix: string | undefined, fileType = 'q4_K_M', extra: object = {}) =>
  quantizeGguf({ input: STORIES_F32, output: join(dir, 'out.gguf'), fileType, threads: 1, force: true, ...(imatrix ? { imatrix } : {}), ...extra });

test('an imatrix for another model: sizes that do not match, or no tensor name in common, is a clear error and nothing is written', async () => {
  // Same names, 256-wide rows: what an imatrix of a bigger model with the same layout looks like.
  const big = storiesImatrix();
  for (const e of big.entries.values()) e.sums = new Float32Array(e.sums.length * 4).fill(1);
  const bigPath = join(dir, 'big.imatrix.gguf');
  await writeImatrixGguf(bigPath, big);
  await rejectsWith(run(quantize(bigPath)), 'format', 'IMATRIX_SIZE', /imatrix size 256 is different from tensor size 64 for blk\.0\.attn_k\.weight.*computed for another model/);
  const other: Imatrix = { entries: new Map([['model.layers.0.mlp.down_proj', { sums: new Float32Array(64).fill(1), counts: [10] }]]), datasets: [], chunkCount: 1, chunkSize: 512, legacy: false };
  const otherPath = join(dir, 'other.imatrix.gguf');
  await writeImatrixGguf(otherPath, other);
  await rejectsWith(run(quantize(otherPath)), 'format', 'IMATRIX_MODEL_MISMATCH', /names none of this model's quantized tensors.*another model/);
  assert.ok(!existsSync(join(dir, 'out.gguf')), 'no output');
});

test('a truncated or corrupt imatrix file is a typed error naming the file', async () => {
  const good = join(dir, 'good.imatrix.gguf');
  await writeImatrixGguf(good, storiesImatrix());
  const bytes = readFileSync(good);
  const cut = join(dir, 'cut.imatrix.gguf');
  writeFileSync(cut, bytes.subarray(0, bytes.length - 100));
  await assert.rejects(run(quantize(cut)), (e: { kind?: string; message: string }) => e.kind === 'format' && e.message.includes('cut.imatrix.gguf'));
  const junk = join(dir, 'junk.dat');
  writeFileSync(junk, Buffer.from([5, 0, 0, 0, 200, 0, 0, 0, 1, 2, 3]));
  await rejectsWith(run(quantize(junk)), 'format', 'IMATRIX_TRUNCATED', /junk\.dat: not an importance matrix, or truncated/);
  // A GGUF model file is not an imatrix.
  await rejectsWith(run(quantize(STORIES_F32)), 'format', 'NOT_IMATRIX', /reference-convert-f32\.gguf is a GGUF .* file, not an importance matrix/);
});

test('a non-finite value in an imatrix is a typed error naming the entry', async () => {
  const nan = join(dir, 'nan.imatrix.gguf');
  await writeImatrixGguf(nan, storiesImatrix((name, s) => { if (name === 'blk.2.ffn_up.weight') s[5] = Number.POSITIVE_INFINITY; }));
  await rejectsWith(run(quantize(nan)), 'format', 'IMATRIX_VALUE', /blk\.2\.ffn_up\.weight.*non-finite value Infinity at column 5/);
});

// 256-wide, so the IQ types fit (on stories260K's 64-wide rows they all fall back to IQ4_NL).
const TINY_LLAMA = join(ROOT, 'samples/generated/tiny-llama-f32');
const W256 = join(dir, 'w256.gguf');
const w256Ready = writeLlamaGguf(W256, { nLayer: 2, nEmbd: 256, nFf: 256, nHead: 4, nHeadKv: 2, tied: false, seed: 3 });
const quantizeW256 = (imatrix: string | undefined, fileType: string, extra: object = {}) =>
  quantizeGguf({ input: W256, output: join(dir, 'out256.gguf'), fileType, threads: 1, force: true, ...(imatrix ? { imatrix } : {}), ...extra });

test('an IQ type without an imatrix is refused with llama.cpp\'s message; a dry run warns', async () => {
  await w256Ready;
  for (const ft of ['iq2_XS', 'iq2_XXS', 'iq3_XXS', 'iq1_S', 'iq1_M', 'iq2_S', 'iq2_M', 'q2_K_S']) {
    await rejectsWith(run(quantizeW256(undefined, ft)), 'unsupported', 'IMATRIX_REQUIRED', /this quantization requires an imatrix! offending tensor: blk\.\d\.\w+\.weight, target type: (IQ|Q2_K)/);
  }
  const events = await run(quantizeW256(undefined, 'iq2_XS', { dryRun: true }));
  assert.ok(events.some((e) => e.type === 'warning' && e.code === 'IMATRIX_REQUIRED'));
  await rejectsWith(run(convertModel({ source: TINY_LLAMA, output: join(dir, 'c.gguf'), fileType: 'iq2_XXS', threads: 1, force: true })), 'unsupported', 'IMATRIX_REQUIRED', /requires an imatrix!/);
  assert.ok(!existsSync(join(dir, 'c.gguf')) && !existsSync(join(dir, 'out256.gguf')));
});

test('tensors missing from the imatrix: a warning each, quantized without weights; a type that needs weights is llama.cpp\'s error', async () => {
  const partial = join(dir, 'partial.imatrix.gguf');
  await writeImatrixGguf(partial, storiesImatrix(undefined, ['blk.0.attn_q.weight', 'blk.0.attn_k.weight']));
  const events = await run(quantize(partial, 'q4_0'));
  const missing = events.filter((e) => e.type === 'warning' && e.code === 'IMATRIX_MISSING').map((e) => (e as { tensor?: string }).tensor);
  assert.ok(missing.includes('blk.0.attn_v.weight') && missing.includes('blk.4.ffn_up.weight') && !missing.includes('blk.0.attn_q.weight'), missing.join(', '));
  await w256Ready;
  const one: Imatrix = { entries: new Map([['blk.0.attn_q.weight', { sums: new Float32Array(256).fill(3), counts: [3] }]]), datasets: [], chunkCount: 0, chunkSize: 512, legacy: false };
  const onePath = join(dir, 'one.imatrix.gguf');
  await writeImatrixGguf(onePath, one);
  await rejectsWith(run(quantizeW256(onePath, 'q2_K_S')), 'format', 'IMATRIX_MISSING', /Missing importance matrix for tensor blk\.0\.\w+\.weight in a very low-bit quantization/);
});

test('CLI: --imatrix errors exit with the format code and say what is wrong; a missing file is a usage error', async () => {
  const other = join(dir, 'other-cli.imatrix.gguf');
  await writeImatrixGguf(other, { entries: new Map([['model.layers.0.mlp.down_proj', { sums: new Float32Array(64).fill(1), counts: [10] }]]), datasets: [], chunkCount: 1, chunkSize: 512, legacy: false });
  const r = runCli(['quantize', STORIES_F32, join(dir, 'cli.gguf'), '--type', 'q4_0', '--imatrix', other]);
  assert.equal(r.status, 4, r.stdout + r.stderr);
  assert.match(r.stderr, /gguf-forge: .*another model/);
  const m = runCli(['quantize', STORIES_F32, join(dir, 'cli.gguf'), '--type', 'q4_0', '--imatrix', join(dir, 'nope.gguf')]);
  assert.equal(m.status, 2, m.stderr);
  assert.match(m.stderr, /imatrix file not found/);
  await w256Ready;
  const iq = runCli(['quantize', W256, join(dir, 'cli.gguf'), '--type', 'iq2_XS', '--json']);
  assert.notEqual(iq.status, 0);
  assert.equal((JSON.parse(iq.stdout) as { error: { code: string } }).error.code, 'IMATRIX_REQUIRED');
});
