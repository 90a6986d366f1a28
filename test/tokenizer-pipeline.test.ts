import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UnsupportedError } from '../formats/errors.ts';
import { archFor } from '../formats/hf/architectures.ts';
import { readHfConfig } from '../formats/hf/config.ts';
import { buildGgufMetadata } from '../formats/hf/gguf-metadata.ts';
import { HfTokenizer } from '../formats/hf/tokenizer/hf-tokenizer.ts';
import { buildNormalizer } from '../formats/hf/tokenizer/normalizers.ts';
import { buildPreTokenizer } from '../formats/hf/tokenizer/pre-tokenizers.ts';

const STORIES = 'samples/stories260K';
const storiesJson = () => JSON.parse(fs.readFileSync(path.join(STORIES, 'tokenizer.json'), 'utf8'));

test('normalizers: NFC/NFKC, Lowercase, Prepend (non-empty only), Replace, Sequence', () => {
  const n = buildNormalizer({ type: 'Sequence', normalizers: [
    { type: 'NFKC' }, { type: 'Lowercase' }, { type: 'Prepend', prepend: '\u2581' }, { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' },
  ] }, 'n.json');
  assert.equal(n('Ｈello Wörld'), '\u2581hello\u2581wörld');
  assert.equal(n(''), '');
  assert.equal(buildNormalizer({ type: 'NFC' }, 'n.json')('e\u0301'), '\u00e9');
  assert.equal(buildNormalizer({ type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' }, 'n.json')('a   b  c'), 'a b c');
  assert.equal(buildNormalizer(null, 'n.json')('x'), 'x');
  assert.throws(() => buildNormalizer({ type: 'Precompiled' }, 'n.json'), (e: unknown) => e instanceof UnsupportedError && e.message.includes('n.json'));
});

test('Metaspace pre-tokenizer: prepend schemes and split (HF docs example "Hey friend!")', () => {
  const split = buildPreTokenizer({ type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true }, 'p.json');
  assert.deepEqual(split(['Hey friend!'], true), ['\u2581Hey', '\u2581friend!']);
  const first = buildPreTokenizer({ type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'first', split: false }, 'p.json');
  assert.deepEqual(first(['a b'], true), ['\u2581a\u2581b']);
  assert.deepEqual(first(['a b'], false), ['a\u2581b']);
  const never = buildPreTokenizer({ type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'never', split: false }, 'p.json');
  assert.deepEqual(never(['a b'], true), ['a\u2581b']);
});

test('Llama-2-style tokenizer.json (Prepend+Replace normalizer, no pre-tokenizer) encodes like the Metaspace form', () => {
  const metaspace = new HfTokenizer(storiesJson(), 'tokenizer.json');
  const legacyJson = storiesJson();
  legacyJson.normalizer = { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '\u2581' }, { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' }] };
  legacyJson.pre_tokenizer = null;
  const legacy = new HfTokenizer(legacyJson, 'tokenizer.json');
  for (const text of ['Once upon a time', 'The dog ran to the big tree.', 'héllo 😀']) {
    assert.deepEqual(legacy.encode(text), metaspace.encode(text), text);
  }
  // Added tokens in the text are matched whole and not normalized.
  assert.deepEqual(metaspace.encode('<s>Once</s>', { addSpecialTokens: false }).slice(0, 1), [1]);
  assert.equal(metaspace.encode('<s>Once</s>', { addSpecialTokens: false }).at(-1), 2);
});

test('llama: tokenizer_config add_prefix_space becomes tokenizer.ggml.add_space_prefix, right before tokenizer.ggml.model', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-prefix-'));
  for (const f of ['config.json', 'tokenizer.model', 'tokenizer.json']) fs.copyFileSync(path.join(STORIES, f), path.join(dir, f));
  const tc = JSON.parse(fs.readFileSync(path.join(STORIES, 'tokenizer_config.json'), 'utf8'));
  fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ ...tc, add_prefix_space: false }));
  const c = await readHfConfig(dir);
  const { kvs } = await buildGgufMetadata(dir, c, archFor(c), { fileTypeId: 0 });
  const i = kvs.findIndex((k) => k.key === 'tokenizer.ggml.add_space_prefix');
  assert.ok(i > 0);
  assert.equal(kvs[i].value, false);
  assert.equal(kvs[i + 1].key, 'tokenizer.ggml.model');
});
