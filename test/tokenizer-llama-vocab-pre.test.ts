/**
 * Every pre-tokenizer name formats/llama-vocab knows splits text exactly as llama.cpp does. The
 * vocabulary is synthetic so that llama.cpp loads it in a blink and splits show in the ids: the 256
 * byte-level tokens plus one merge for every adjacent byte pair of the test texts, so two bytes merge
 * exactly when no split falls between them. The same GGUF is written once per `tokenizer.ggml.pre`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GgufWriter } from '../formats/gguf/writer.ts';
import { arr, GgufValueType, str, type GgufKv } from '../formats/gguf/value-types.ts';
import { BYTE_TO_CHAR } from '../formats/hf/tokenizer/byte-level.ts';
import { loadVocab, vocabFromGguf } from '../formats/llama-vocab/index.ts';
import { PRE_TOKENIZERS } from '../formats/llama-vocab/pre-tokenizers.ts';
import { llamaCppUnavailable } from './support/llama-cpp.ts';
import { compareOnTexts, fuzzTexts, loadVocabOnly, TEXTS } from './support/vocab-oracle.ts';

const TEST_TEXTS = [...TEXTS, ...fuzzTexts(37, 120, 30)];

function syntheticKvs(pre: string): GgufKv[] {
  const tokens = [...BYTE_TO_CHAR];
  const merges: string[] = [];
  const seen = new Set<string>();
  for (const text of TEST_TEXTS) {
    const chars = [...new TextEncoder().encode(text)].map((b) => BYTE_TO_CHAR[b]!);
    for (let i = 0; i + 1 < chars.length && merges.length < 6000; i++) {
      const pair = chars[i]! + chars[i + 1]!;
      if (seen.has(pair)) continue;
      seen.add(pair);
      merges.push(`${chars[i]} ${chars[i + 1]}`);
      tokens.push(pair);
    }
  }
  const types = tokens.map(() => 1);
  for (const [text, type] of [['<|endoftext|>', 3], ['<|im_start|>', 3], ['<|im_end|>', 3], ['<s>', 4]] as const) {
    tokens.push(text);
    types.push(type);
  }
  const kv = (key: string, v: Omit<GgufKv, 'key'>) => ({ key, ...v }) as GgufKv;
  return [
    kv('general.architecture', str('llama')),
    kv('tokenizer.ggml.model', str('gpt2')),
    kv('tokenizer.ggml.pre', str(pre)),
    kv('tokenizer.ggml.tokens', arr(GgufValueType.STRING, tokens)),
    kv('tokenizer.ggml.token_type', arr(GgufValueType.INT32, types)),
    kv('tokenizer.ggml.merges', arr(GgufValueType.STRING, merges)),
    // BOS/EOS are CONTROL tokens: node-llama-cpp reports a non-control BOS as none.
    kv('tokenizer.ggml.bos_token_id', { type: GgufValueType.UINT32, value: tokens.indexOf('<|im_start|>') }),
    kv('tokenizer.ggml.eos_token_id', { type: GgufValueType.UINT32, value: tokens.indexOf('<|endoftext|>') }),
  ];
}


/**
 * One name per distinct row of the table (names sharing regexes and flags behave identically in our
 * code; the table itself is copied from llama-vocab.cpp), plus every name our converter writes.
 */
function representativeNames(): string[] {
  const rows = new Map<string, string>();
  for (const [name, row] of Object.entries(PRE_TOKENIZERS)) if (!rows.has(JSON.stringify(row))) rows.set(JSON.stringify(row), name);
  return [...new Set([...rows.values(), 'llama-bpe', 'smaug-bpe', 'qwen2', 'deepseek-r1-qwen', 'gpt-2', 'tekken', 'smollm'])];
}

test('every pre-tokenizer we implement splits like llama.cpp (synthetic pair-merge vocab, fixed and random texts)', async (t) => {
  if (llamaCppUnavailable) { t.skip(llamaCppUnavailable); return; }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-vocab-pre-'));
  try {
    for (const pre of representativeNames()) {
      const kvs = syntheticKvs(pre);
      const gguf = path.join(tmp, `${pre}.gguf`);
      const w = await GgufWriter.open(gguf);
      for (const kv of kvs) w.addKv(kv.key, kv);
      await w.writeHeader();
      await w.finish();
      const model = await loadVocabOnly(gguf);
      try {
        const fromFile = await vocabFromGguf(gguf);
        await t.test(pre, () => compareOnTexts(model, fromFile, loadVocab(kvs), TEST_TEXTS));
      } finally {
        await model.dispose();
        fs.rmSync(gguf);
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('a pre-tokenizer name llama.cpp would refuse is refused, not guessed', () => {
  assert.throws(() => loadVocab(syntheticKvs('no-such-pre')), /no-such-pre/);
  assert.throws(() => loadVocab(syntheticKvs('qwen35')), /qwen35/);
});
