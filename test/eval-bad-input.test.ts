/**
 * `eval` refuses bad input with typed errors that name the problem: a model and a reference with
 * different vocabularies, a text shorter than llama-perplexity's two chunks, a context longer
 * than the model's, a GGUF of an architecture the forward does not run, and an unreadable text.
 * The CLI maps each to its exit code; `--json` prints the error as a document.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evalModel, type EvalOptions } from '../src/pipeline/eval.ts';
import { ForgeError } from '../formats/errors.ts';
import { main } from '../src/cli/main.ts';
import { ensureSamples, SAMPLE } from '../samples/lib/index.ts';
import { createRefEngine } from '../kernels/forward/index.ts';
import { runJob } from './support/run-job.ts';

const STORIES = join(import.meta.dirname, '..', 'samples', 'stories260K');
const STORIES_F32 = join(STORIES, 'reference-convert-f32.gguf');
const EVAL_TXT = join(STORIES, 'eval.txt');

let dir: string;
let qwen2: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gguf-forge-eval-bad-'));
  qwen2 = join(await ensureSamples(), SAMPLE.qwen2.f32);
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function refused(opts: Partial<EvalOptions>, code: string, kind: string, mentions: RegExp): Promise<void> {
  await assert.rejects(runJob(evalModel({ model: STORIES_F32, textFile: EVAL_TXT, ctx: 128, engine: createRefEngine(), ...opts })), (e: unknown) => {
    assert.ok(e instanceof ForgeError, `not a ForgeError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.kind, kind);
    assert.match(e.message, mentions);
    return true;
  });
}

test('a model and a reference with different vocabularies are refused', async () => {
  // Both have 512 tokens; the texts differ (stories' SentencePiece vs the qwen2 sample's byte-level BPE).
  await refused({ ref: qwen2 }, 'VOCAB_MISMATCH', 'usage', /different vocabularies: token \d+ is/);
});

test('a text shorter than two chunks is refused, naming the file and the token counts', async () => {
  const short = join(dir, 'short.txt');
  writeFileSync(short, 'Once upon a time, there was a little girl.');
  await refused({ textFile: short }, 'TEXT_TOO_SHORT', 'usage', /short\.txt tokenizes to \d+ tokens; .* needs at least 256/);
});

test('a context larger than the model was trained for is refused', async () => {
  await refused({ ctx: 1024 }, 'CTX_TOO_LARGE', 'usage', /--ctx 1024 is larger than the context 512/);
});

test('a GGUF of an unsupported architecture is refused', async () => {
  // stories260K with general.architecture = "mamba" (same length, so the file stays valid).
  const bytes = readFileSync(STORIES_F32);
  const key = Buffer.from('general.architecture');
  const at = bytes.indexOf(key) + key.length + 4 + 8;
  assert.equal(bytes.subarray(at, at + 5).toString(), 'llama');
  bytes.write('mamba', at);
  const mamba = join(dir, 'mamba.gguf');
  writeFileSync(mamba, bytes);
  await refused({ model: mamba }, 'UNSUPPORTED_ARCHITECTURE', 'unsupported', /mamba\.gguf: architecture 'mamba' has no forward pass/);
});

test('an unreadable text file is refused with an I/O error naming it', async () => {
  await refused({ textFile: join(dir, 'missing.txt') }, 'ENOENT', 'io', /cannot read the evaluation text .*missing\.txt: no such file/);
  await refused({ textFile: dir }, 'EISDIR', 'io', /is a directory/);
});

test('the CLI maps the refusals to exit codes', async () => {
  assert.equal(await main(['eval', STORIES_F32, '--text', EVAL_TXT, '--ctx', '1024', '--json']), 2);
  assert.equal(await main(['eval', STORIES_F32, '--text', join(dir, 'missing.txt'), '--json']), 7);
  assert.equal(await main(['eval', STORIES_F32, '--ctx', 'abc']), 2);
  assert.equal(await main(['eval', STORIES_F32, '--max-memory', 'lots']), 2);
});
