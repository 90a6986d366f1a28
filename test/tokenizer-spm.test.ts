import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FormatError } from '../formats/errors.ts';
import { GgufValueType } from '../formats/gguf/value-types.ts';
import { archFor } from '../formats/hf/architectures.ts';
import { readHfConfig } from '../formats/hf/config.ts';
import { buildGgufMetadata } from '../formats/hf/gguf-metadata.ts';
import { parseSentencePieceModel, SpPieceType } from '../formats/hf/sentencepiece-model.ts';
import { HfTokenizer } from '../formats/hf/tokenizer/hf-tokenizer.ts';
import { llamaCppUnavailable } from './support/llama-cpp.ts';
import { loadModel } from './support/llama-run.ts';

const DIR = 'samples/stories260K';
const SP_FILE = path.join(DIR, 'tokenizer.model');

test('tokenizer.model protobuf: 512 pieces with scores and types', () => {
  const pieces = parseSentencePieceModel(new Uint8Array(fs.readFileSync(SP_FILE)), SP_FILE);
  assert.equal(pieces.length, 512);
  assert.deepEqual(pieces.slice(0, 4).map((p) => [p.piece, p.type]), [
    ['<unk>', SpPieceType.UNKNOWN], ['<s>', SpPieceType.CONTROL], ['</s>', SpPieceType.CONTROL], ['<0x00>', SpPieceType.BYTE],
  ]);
  assert.equal(pieces[258].piece, '<0xFF>');
  const normal = pieces.filter((p) => p.type === SpPieceType.NORMAL);
  assert.equal(normal.length, 512 - 3 - 256);
  // SentencePiece BPE scores are minus the merge rank: strictly decreasing over normal pieces.
  assert.ok(normal.every((p, i) => i === 0 || p.score < normal[i - 1].score));
});

test('malformed tokenizer.model: FormatError naming the file and offset', () => {
  const good = new Uint8Array(fs.readFileSync(SP_FILE));
  assert.throws(() => parseSentencePieceModel(good.subarray(0, 100), SP_FILE),
    (e: unknown) => e instanceof FormatError && e.message.includes(SP_FILE) && /offset \d+/.test(e.message));
  assert.throws(() => parseSentencePieceModel(new Uint8Array(0), SP_FILE), (e: unknown) => e instanceof FormatError && e.code === 'SENTENCEPIECE');
  // Field 1 claims 200 bytes, only 2 follow.
  assert.throws(() => parseSentencePieceModel(Uint8Array.from([0x0a, 0xc8, 0x01, 0x0a, 0x00]), SP_FILE), /runs past its message/);
  // Wire type 3 (deprecated groups) is refused rather than misread.
  assert.throws(() => parseSentencePieceModel(Uint8Array.from([0x0b]), SP_FILE), /wire type 3/);
});

test('stories260K tokenizer.json in JS gives llama.cpp\'s token ids for the reference GGUF (byte fallback included)', async (t) => {
  if (llamaCppUnavailable) { t.skip(llamaCppUnavailable); return; }
  const tok = new HfTokenizer(JSON.parse(fs.readFileSync(path.join(DIR, 'tokenizer.json'), 'utf8')), 'tokenizer.json');
  assert.deepEqual(tok.encode('Once upon a time'), [1, 403, 407, 261, 378]);
  const model = await loadModel(path.join(DIR, 'reference-convert-f32.gguf'));
  try {
    const texts = [
      'Once upon a time',
      'Lily saw a big, red ball. She said: "Hi!"\nThe end.',
      'héllo wörld 😀 über 123', // characters outside the vocab go through <0xXX> byte tokens
      'Tom and Sam were friends. They liked to play in the park every day.',
    ];
    for (const text of texts) {
      assert.deepEqual(tok.encode(text), [1, ...model.tokenize(text)], JSON.stringify(text));
    }
    // The README's caveat: SentencePiece prepends ▁ even before a leading space, HF Metaspace does not.
    assert.notDeepEqual(tok.encode(' x'), [1, ...model.tokenize(' x')]);
  } finally {
    await model.dispose();
  }
});

test('without tokenizer.model, a byte-fallback tokenizer.json gives convert\'s LlamaHfVocab keys', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-llamahf-'));
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) fs.copyFileSync(path.join(DIR, f), path.join(dir, f));
  const c = await readHfConfig(dir);
  const { kvs } = await buildGgufMetadata(dir, c, archFor(c), { fileTypeId: 0 });
  const by = new Map(kvs.map((k) => [k.key, k]));
  assert.equal(by.get('tokenizer.ggml.model')!.value, 'llama');
  assert.equal(by.get('tokenizer.ggml.pre')!.value, 'default');
  const tokens = by.get('tokenizer.ggml.tokens')!.value as string[];
  const refPieces = parseSentencePieceModel(new Uint8Array(fs.readFileSync(SP_FILE)), SP_FILE).map((p) => p.piece);
  assert.deepEqual(tokens, refPieces);
  assert.ok(Array.from(by.get('tokenizer.ggml.scores')!.value as ArrayLike<number>).every((s) => s === -1000));
  const types = Array.from(by.get('tokenizer.ggml.token_type')!.value as ArrayLike<number>);
  assert.deepEqual(types.slice(0, 4), [3, 3, 3, 6]); // specials are control here (convert marks <unk> control too)
  assert.equal(by.get('tokenizer.ggml.token_type')!.type === GgufValueType.ARRAY && (by.get('tokenizer.ggml.token_type') as { elemType: number }).elemType, GgufValueType.INT32);
  assert.deepEqual(kvs.filter((k) => k.key.startsWith('tokenizer.ggml.add_')).map((k) => [k.key, k.value]),
    [['tokenizer.ggml.add_bos_token', true], ['tokenizer.ggml.add_sep_token', false], ['tokenizer.ggml.add_eos_token', false]]);
});

test('tokenizer.model as the only tokenizer file: SentencePiece arrays as the reference, special ids from config.json', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-sponly-'));
  for (const f of ['config.json', 'tokenizer.model']) fs.copyFileSync(path.join(DIR, f), path.join(dir, f));
  const c = await readHfConfig(dir);
  const only = await buildGgufMetadata(dir, c, archFor(c), { fileTypeId: 0 });
  const full = await buildGgufMetadata(DIR, await readHfConfig(DIR), archFor(c), { fileTypeId: 0 });
  const pick = (kvs: typeof only.kvs, key: string) => Array.from(kvs.find((k) => k.key === key)!.value as ArrayLike<unknown>);
  for (const key of ['tokenizer.ggml.tokens', 'tokenizer.ggml.scores', 'tokenizer.ggml.token_type']) {
    assert.deepEqual(pick(only.kvs, key), pick(full.kvs, key), key);
  }
  // No tokenizer.json / tokenizer_config.json: ids come from config.json only, and no add_* flags are known.
  assert.deepEqual(only.kvs.filter((k) => k.key.startsWith('tokenizer.ggml.') && !Array.isArray(k.value) && !ArrayBuffer.isView(k.value)).map((k) => [k.key, k.value]), [
    ['tokenizer.ggml.model', 'llama'], ['tokenizer.ggml.pre', 'default'],
    ['tokenizer.ggml.bos_token_id', 1], ['tokenizer.ggml.eos_token_id', 2],
  ]);
});
