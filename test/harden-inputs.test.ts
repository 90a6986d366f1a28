/**
 * Issue 17, items 1–4, 8 and 10: config.json, the tokenizer files and untrusted strings in
 * messages. Every case is a real convert (or dry run) of a broken copy of stories260K, and must
 * end in a typed error (exit 4) naming the file and the field, with nothing left behind.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertModel, type ConvertOptions } from '../src/pipeline/convert.ts';
import { runAwqGptqConvert } from '../src/pipeline/awq-gptq.ts';
import { ForgeError, FormatError } from '../formats/errors.ts';
import { MESSAGE_MAX } from '../formats/untrusted-text.ts';
import { readGguf } from '../formats/gguf/reader.ts';
import { memorySource } from '../formats/io/byte-source.ts';
import { openSafetensorsModel } from '../formats/safetensors/model.ts';
import { SafetensorsWriter } from '../formats/safetensors/writer.ts';
import { buildInspectReport } from '../src/inspect/report.ts';
import { renderInspectText } from '../src/inspect/render-text.ts';
import { exitCodeFor } from '../src/cli/exit-codes.ts';
import { runJob } from './support/run-job.ts';

const STORIES = join(import.meta.dirname, '..', 'samples', 'stories260K');
let work: string;
let n = 0;
before(() => { work = mkdtempSync(join(tmpdir(), 'gguf-forge-harden-')); });
after(() => rmSync(work, { recursive: true, force: true }));

function copyModel(drop: string[] = []): string {
  const d = join(work, `model-${n++}`);
  cpSync(STORIES, d, { recursive: true });
  for (const f of ['reference-convert-f32.gguf', ...drop]) rmSync(join(d, f), { force: true });
  return d;
}

function editJson(dir: string, file: string, edit: (j: any) => void): void {
  const path = join(dir, file);
  const j = JSON.parse(readFileSync(path, 'utf8'));
  edit(j);
  writeFileSync(path, JSON.stringify(j));
}

/** Runs convert (real or dry) and checks the typed error: kind, code, exit code 4, file and field named. */
async function expectFormatError(dir: string, code: string, file: RegExp, field: RegExp, opts: Partial<ConvertOptions> = {}): Promise<ForgeError> {
  const outDir = join(work, `out-${n++}`);
  mkdirSync(outDir);
  let caught: unknown;
  try {
    await runJob(convertModel({ source: dir, fileType: 'q8_0', threads: 1, output: join(outDir, 'out.gguf'), ...opts }));
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ForgeError, `expected a ForgeError, got ${String((caught as Error)?.stack ?? caught)}`);
  assert.equal(caught.kind, 'format', caught.message);
  assert.equal(exitCodeFor(caught.kind), 4);
  assert.equal(caught.code, code, caught.message);
  assert.match(caught.message, file);
  assert.match(caught.message, field);
  assert.deepEqual(readdirSync(outDir), [], 'nothing may be left in the output folder');
  return caught;
}

test('item 1: a huge num_hidden_layers is refused before any tensor list is built, naming config.json and the field', async () => {
  for (const layers of [2147483648, 100000, 6]) {
    const d = copyModel();
    editJson(d, 'config.json', (c) => { c.num_hidden_layers = layers; });
    const err = await expectFormatError(d, 'CONFIG_FIELD', /config\.json/, /num_hidden_layers/);
    assert.match(err.message, /holds tensors for 5 layers/);
  }
});

test('item 1: vocab_size, hidden_size and heads must agree with each other and with the embedding', async () => {
  const cases: [(c: any) => void, RegExp][] = [
    [(c) => { c.vocab_size = 4096; }, /"vocab_size" is 4096 but .*embed_tokens\.weight has 512 rows/],
    [(c) => { c.num_key_value_heads = 3; }, /"num_key_value_heads" \(3\) must divide/],
    [(c) => { c.hidden_size = -64; }, /"hidden_size" must be a positive integer/],
    [(c) => { c.intermediate_size = 2 ** 40; }, /"intermediate_size" must be a positive integer of at most 4294967295/],
    [(c) => { c.rms_norm_eps = 1e300; }, /"rms_norm_eps" must be a positive number that fits a float32/],
  ];
  for (const [edit, re] of cases) {
    const d = copyModel();
    editJson(d, 'config.json', edit);
    await expectFormatError(d, 'CONFIG_FIELD', /config\.json/, re);
  }
});

test('item 2: a tokenizer.json vocabulary that does not match vocab_size is refused on the byte-fallback path', async () => {
  const empty = copyModel(['tokenizer.model']);
  editJson(empty, 'tokenizer.json', (t) => { t.model.vocab = {}; });
  const e1 = await expectFormatError(empty, 'VOCAB_SIZE', /tokenizer\.json/, /vocab_size 512/);
  assert.match(e1.message, /defines 3 tokens/);

  const extra = copyModel(['tokenizer.model']);
  editJson(extra, 'tokenizer.json', (t) => { t.added_tokens.push({ id: 512, content: '<extra>', special: true }); });
  const e2 = await expectFormatError(extra, 'VOCAB_SIZE', /tokenizer\.json/, /vocab_size 512/);
  assert.match(e2.message, /defines 513 tokens/);
  // The dry run finds it too.
  await expectFormatError(extra, 'VOCAB_SIZE', /tokenizer\.json/, /vocab_size/, { dryRun: true });
});

test('item 3: malformed tokenizer.json and tokenizer_config.json are typed errors naming the file and field', async () => {
  const tokCases: [string, (t: any) => void, RegExp][] = [
    ['added_tokens "x"', (t) => { t.added_tokens = 'x'; }, /"added_tokens"/],
    ['added_tokens {}', (t) => { t.added_tokens = {}; }, /"added_tokens"/],
    ['added_tokens [null]', (t) => { t.added_tokens = [null]; }, /"added_tokens\[0\]"/],
    ['model.vocab null', (t) => { t.model.vocab = null; }, /"model\.vocab"/],
  ];
  for (const byteFallback of [true, false]) {
    for (const [, edit, field] of tokCases) {
      const d = copyModel(['tokenizer.model']);
      editJson(d, 'tokenizer.json', (t) => { t.model.byte_fallback = byteFallback; edit(t); });
      await expectFormatError(d, 'TOKENIZER_FIELD', /tokenizer\.json/, field);
    }
  }
  const d = copyModel();
  editJson(d, 'tokenizer_config.json', (t) => { t.added_tokens_decoder = { 5: null }; });
  await expectFormatError(d, 'TOKENIZER_FIELD', /tokenizer_config\.json/, /"added_tokens_decoder\["5"\]"/);
});

test('item 4: a bad max_position_embeddings is exit 4 naming config.json and the field, in a real run and a dry run', async () => {
  for (const v of [1.5, 1e-300, 2 ** 53]) {
    for (const dryRun of [false, true]) {
      const d = copyModel();
      editJson(d, 'config.json', (c) => { c.max_position_embeddings = v; });
      await expectFormatError(d, 'CONFIG_FIELD', /config\.json/, /"max_position_embeddings"/, { dryRun });
    }
  }
});

test('item 8: control characters are escaped and huge strings cut, in every error message and in inspect', async () => {
  const err = new FormatError('X', `tensor '\u001b[31mred\u001b]0;title\u0007' and ${'k'.repeat(1_000_000)}`, { file: 'f.gguf' });
  assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f]/.test(err.message), 'no raw control characters');
  assert.match(err.message, /\\x1b\[31mred\\x1b\]0;title\\x07/);
  assert.ok(err.message.length <= MESSAGE_MAX, `message is ${err.message.length} chars`);
  assert.match(err.message, /chars cut/);

  // A GGUF with an ESC in a tensor name (same length, so the layout is unchanged): inspect shows it escaped.
  const base = new Uint8Array(readFileSync(join(STORIES, 'reference-convert-f32.gguf')));
  const name = (await readGguf(memorySource('ok.gguf', base))).tensors[0]!.name;
  const bytes = Buffer.from(base);
  bytes[bytes.indexOf(Buffer.from(name))] = 0x1b;
  const text = renderInspectText(buildInspectReport(await readGguf(memorySource('esc.gguf', new Uint8Array(bytes)))));
  assert.ok(!text.includes('\u001b'), 'inspect never prints a raw ESC');
  assert.match(text, /\\x1b/);

  // A GGUF key length corrupted to ~1 MB gives a short message.
  const big = Buffer.from(base);
  big.writeBigUInt64LE(1_000_000n, 24); // first KV's key length
  await assert.rejects(readGguf(memorySource('big.gguf', new Uint8Array(big))), (e: unknown) => {
    assert.ok(e instanceof ForgeError, String(e));
    assert.ok(e.message.length <= MESSAGE_MAX, `message is ${e.message.length} chars`);
    return true;
  });
});

test('item 10: AWQ/GPTQ find a NaN in the source before packing: exit 4 naming the source file and tensor', async () => {
  for (const method of ['awq', 'gptq'] as const) {
    const d = copyModel();
    const m = await openSafetensorsModel(d);
    const ts = [];
    for (const t of m.tensors.values()) ts.push({ name: t.name, dtype: 'F32' as const, shape: t.shape, data: new Float32Array((await m.readTensor(t.name)).slice().buffer) });
    await m.close();
    ts.find((t) => t.name === 'model.layers.3.self_attn.q_proj.weight')!.data[70] = NaN;
    const path = join(d, 'model.safetensors');
    rmSync(path);
    const w = await SafetensorsWriter.open(path, ts.map(({ name, dtype, shape }) => ({ name, dtype, shape })), { format: 'pt' });
    for (const t of ts) await w.writeTensorData(t.name, new Uint8Array(t.data.buffer));
    await w.finish();

    const outDir = join(work, `awq-out-${n++}`);
    mkdirSync(outDir);
    await assert.rejects(runAwqGptqConvert({ source: d, output: join(outDir, 'q'), method, groupSize: 64, keepUnaligned: true }), (e: unknown) => {
      assert.ok(e instanceof ForgeError, String(e));
      assert.equal(e.kind, 'format', e.message);
      assert.equal(exitCodeFor(e.kind), 4);
      assert.equal(e.code, 'NON_FINITE');
      assert.match(e.message, /model\.safetensors/);
      assert.match(e.message, /model\.layers\.3\.self_attn\.q_proj\.weight/);
      assert.match(e.message, /row 1, column 6/);
      assert.doesNotMatch(e.message, /\.tmp/);
      return true;
    });
    assert.deepEqual(readdirSync(outDir), [], 'no output or temporary folder left');
  }
});
