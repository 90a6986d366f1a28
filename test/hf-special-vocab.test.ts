import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UnsupportedError } from '../formats/errors.ts';
import { archFor } from '../formats/hf/architectures.ts';
import { readHfConfig } from '../formats/hf/config.ts';
import { buildGgufMetadata } from '../formats/hf/gguf-metadata.ts';
import { KvList } from '../formats/hf/kv-list.ts';
import { SpecialVocab } from '../formats/hf/special-vocab.ts';
import type { TokenizerFiles } from '../formats/hf/tokenizer-files.ts';

type Json = Record<string, any>;

function files(tokenizerJson: Json | null, tokenizerConfig: Json | null, config: Json = {}, chatTemplateFallback?: string | Json[]): TokenizerFiles {
  return {
    dir: '/m', config, tokenizerJson, tokenizerJsonPath: '/m/tokenizer.json', tokenizerConfig,
    sentencePieceModel: null, sentencePiecePath: '/m/tokenizer.model', addedTokensJson: null, chatTemplateFallback,
  };
}

function kvsOf(sv: SpecialVocab): [string, unknown][] {
  const kv = new KvList();
  sv.addTo(kv);
  return kv.toArray().map((k) => [k.key, Array.isArray(k.value) ? k.value.length : k.value]);
}

const added = (pairs: [number, string][]) => pairs.map(([id, content]) => ({ id, content, special: true }));
const tmpl = (single: string[], pair: string[] = []) => ({
  type: 'TemplateProcessing',
  single: single.map((x) => (x === 'A' || x === 'B' ? { Sequence: { id: x, type_id: 0 } } : { SpecialToken: { id: x, type_id: 0 } })),
  pair: pair.map((x) => (x === 'A' || x === 'B' ? { Sequence: { id: x, type_id: 0 } } : { SpecialToken: { id: x, type_id: 0 } })),
  special_tokens: {},
});

test('TemplateProcessing ending in a token other than EOS: old EOS becomes EOT, add_eos true (Qwen3-Embedding style)', () => {
  const tj = { model: { type: 'BPE', vocab: {}, merges: [] }, added_tokens: added([[10, '<|endoftext|>'], [11, '<|im_end|>']]), post_processor: tmpl(['A', '<|endoftext|>']) };
  const sv = new SpecialVocab(files(tj, { eos_token: '<|im_end|>', pad_token: '<|endoftext|>' }), { loadMerges: false });
  assert.deepEqual(kvsOf(sv), [
    ['tokenizer.ggml.eos_token_id', 10],
    ['tokenizer.ggml.padding_token_id', 10],
    ['tokenizer.ggml.eot_token_id', 11],
    ['tokenizer.ggml.add_eos_token', true],
  ]);
});

test('leading BOS counts only when it equals tokenizer_config\'s bos_token string; tokenizer_config add_* flags win in place', () => {
  const tj = { model: { type: 'BPE', vocab: {}, merges: [] }, added_tokens: added([[1, '<s>'], [2, '</s>']]), post_processor: tmpl(['<s>', 'A'], ['<s>', 'A', '</s>', 'B']) };
  // Middle '</s>' equals eos and there is no trailing special: add_sep true, and sep_token becomes eos.
  assert.deepEqual(kvsOf(new SpecialVocab(files(tj, { bos_token: '<s>', eos_token: '</s>' }), { loadMerges: false })), [
    ['tokenizer.ggml.bos_token_id', 1], ['tokenizer.ggml.eos_token_id', 2], ['tokenizer.ggml.seperator_token_id', 2],
    ['tokenizer.ggml.add_bos_token', true], ['tokenizer.ggml.add_sep_token', true],
  ]);
  // bos_token as an AddedToken dict: the template comparison fails (a convert quirk), the id is still found.
  const dictBos = { bos_token: { content: '<s>' }, eos_token: '</s>', add_bos_token: false, add_eos_token: true };
  assert.deepEqual(kvsOf(new SpecialVocab(files(tj, dictBos), { loadMerges: false })), [
    ['tokenizer.ggml.bos_token_id', 1], ['tokenizer.ggml.eos_token_id', 2], ['tokenizer.ggml.seperator_token_id', 2],
    ['tokenizer.ggml.add_bos_token', false], ['tokenizer.ggml.add_sep_token', true], ['tokenizer.ggml.add_eos_token', true],
  ]);
});

test('config.json ids fill only unset kinds; ids out of range and non-integers (Llama 3.1 eos list) are skipped', () => {
  const tj = { model: { type: 'BPE', vocab: {}, merges: [['a b', 'c']] }, added_tokens: added([[5, '<bos>']]) };
  const sv = new SpecialVocab(files(tj, { bos_token: '<bos>' }, { bos_token_id: 7, eos_token_id: [8, 9], pad_token_id: 99, unk_token_id: 3 }), { loadMerges: true, nVocab: 50 });
  assert.deepEqual(sv.merges, ['a\u0120b c']);
  assert.deepEqual(kvsOf(sv), [['tokenizer.ggml.merges', 1], ['tokenizer.ggml.bos_token_id', 5], ['tokenizer.ggml.unknown_token_id', 3]]);
});

test('chat templates: tokenizer_config wins, else chat_template.jinja; named templates get their own keys', () => {
  const tj = { model: { type: 'BPE', vocab: {}, merges: [] }, added_tokens: [] };
  assert.deepEqual(kvsOf(new SpecialVocab(files(tj, { chat_template: 'A' }, {}, 'B'), { loadMerges: false })), [['tokenizer.chat_template', 'A']]);
  assert.deepEqual(kvsOf(new SpecialVocab(files(tj, { x: 1 }, {}, 'B'), { loadMerges: false })), [['tokenizer.chat_template', 'B']]);
  const named = [{ name: 'default', template: 'D' }, { name: 'tool-use', template: 'T' }];
  assert.deepEqual(kvsOf(new SpecialVocab(files(tj, { chat_template: named }), { loadMerges: false })), [
    ['tokenizer.chat_template.tool_use', 'T'], ['tokenizer.chat_templates', 1], ['tokenizer.chat_template', 'D'],
  ]);
});

test('chat_template.jinja in the model folder reaches tokenizer.chat_template; a Unigram tokenizer.json is UnsupportedError', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-chat-'));
  for (const f of ['config.json', 'tokenizer.model', 'tokenizer.json', 'tokenizer_config.json']) fs.copyFileSync(path.join('samples/stories260K', f), path.join(dir, f));
  fs.writeFileSync(path.join(dir, 'chat_template.jinja'), '{{ messages[0].content }}');
  const c = await readHfConfig(dir);
  const { kvs } = await buildGgufMetadata(dir, c, archFor(c), { fileTypeId: 0 });
  assert.equal(kvs.at(-1)!.key, 'tokenizer.chat_template');
  assert.equal(kvs.at(-1)!.value, '{{ messages[0].content }}');

  fs.rmSync(path.join(dir, 'tokenizer.model'));
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify({ model: { type: 'Unigram', vocab: [] } }));
  await assert.rejects(buildGgufMetadata(dir, c, archFor(c), { fileTypeId: 0 }),
    (e: unknown) => e instanceof UnsupportedError && e.message.includes(path.join(dir, 'tokenizer.json')) && e.message.includes('Unigram'));
});
