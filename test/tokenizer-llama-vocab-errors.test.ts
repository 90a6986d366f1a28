/**
 * formats/llama-vocab refuses what llama.cpp's loader refuses, with typed errors that name the key,
 * and never guesses: no vocabulary, an unsupported tokenizer model, a BPE vocab without merges, a
 * short scores array, an unknown pre-tokenizer; token ids outside the vocab are a RangeError.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arr, bool, GgufValueType, str, type GgufKv } from '../formats/gguf/value-types.ts';
import { detokenize, loadVocab, tokenize, tokenToPiece } from '../formats/llama-vocab/index.ts';

const kv = (key: string, v: Omit<GgufKv, 'key'>) => ({ key, ...v }) as GgufKv;
const tokens = ['<unk>', '<s>', '</s>', '▁a', 'a', '▁'];
const spm = (extra: GgufKv[] = []): GgufKv[] => [
  kv('tokenizer.ggml.model', str('llama')),
  kv('tokenizer.ggml.tokens', arr(GgufValueType.STRING, tokens)),
  kv('tokenizer.ggml.scores', arr(GgufValueType.FLOAT32, [0, 0, 0, -1, -2, -3])),
  kv('tokenizer.ggml.token_type', arr(GgufValueType.INT32, [2, 3, 3, 1, 1, 1])),
  ...extra,
];

test('a tiny SPM vocab: add_space_prefix, BOS, and the flags read from the keys', () => {
  const v = loadVocab(spm());
  assert.deepEqual([...tokenize(v, 'a a', { addSpecial: true, parseSpecial: false })], [1, 3, 3]);
  const noPrefix = loadVocab(spm([kv('tokenizer.ggml.add_space_prefix', bool(false)), kv('tokenizer.ggml.add_bos_token', bool(false))]));
  assert.deepEqual([...tokenize(noPrefix, 'a a', { addSpecial: true, parseSpecial: false })], [4, 3]);
  // Text after a special token gets the space prefix too, as llama.cpp does.
  assert.deepEqual([...tokenize(v, '<s>a', { addSpecial: false, parseSpecial: true })], [1, 3]);
  // '<' is neither a token nor a byte token here: llama.cpp's byte_to_token throws (token_to_id.at), so do we.
  assert.throws(() => tokenize(v, '<s>a', { addSpecial: false, parseSpecial: false }), RangeError);
  // llama_detokenize strips the prefix space from the first token only, and here that is the BOS.
  assert.equal(detokenize(v, [1, 3, 3, 2], { unparseSpecial: false }), ' a a');
  assert.equal(detokenize(v, [3, 3, 2], { unparseSpecial: false }), 'a a');
  assert.equal(detokenize(v, [1, 3, 3, 2]), '<s> a a</s>');
  assert.deepEqual([...tokenize(v, '', { addSpecial: true, parseSpecial: false })], [1]);
  assert.deepEqual([...tokenize(v, '', { addSpecial: false, parseSpecial: false })], []);
});

test('bad vocabularies are refused with the key named', () => {
  assert.throws(() => loadVocab([]), (e: Error) => e.name === 'FormatError' && /tokenizer\.ggml\.model/.test(e.message));
  assert.throws(() => loadVocab(spm().map((k) => (k.key === 'tokenizer.ggml.model' ? kv(k.key, str('bert')) : k))), (e: Error) => e.name === 'UnsupportedError' && /bert/.test(e.message));
  assert.throws(
    () => loadVocab([kv('tokenizer.ggml.model', str('gpt2')), kv('tokenizer.ggml.tokens', arr(GgufValueType.STRING, ['a']))]),
    (e: Error) => e.name === 'FormatError' && /tokenizer\.ggml\.merges/.test(e.message),
  );
  assert.throws(
    () => loadVocab(spm().map((k) => (k.key === 'tokenizer.ggml.scores' ? kv(k.key, arr(GgufValueType.FLOAT32, [0])) : k))),
    (e: Error) => e.name === 'FormatError' && /scores has 1 entries for 6 tokens/.test(e.message),
  );
  assert.throws(() => loadVocab(spm().filter((k) => k.key !== 'tokenizer.ggml.tokens')), /tokenizer\.ggml\.tokens is missing/);
  assert.throws(
    () => loadVocab([kv('tokenizer.ggml.model', str('gpt2')), kv('tokenizer.ggml.pre', str('made-up')), kv('tokenizer.ggml.tokens', arr(GgufValueType.STRING, ['a'])), kv('tokenizer.ggml.merges', arr(GgufValueType.STRING, []))]),
    (e: Error) => e.name === 'UnsupportedError' && /made-up/.test(e.message),
  );
});

test('token ids outside the vocab are a RangeError', () => {
  const v = loadVocab(spm());
  assert.throws(() => tokenToPiece(v, 6), RangeError);
  assert.throws(() => tokenToPiece(v, -1), RangeError);
  assert.throws(() => detokenize(v, [0, 99]), RangeError);
});
