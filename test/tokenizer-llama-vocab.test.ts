/**
 * formats/llama-vocab tokenizes exactly as llama.cpp does (node-llama-cpp's `model.tokenize`, i.e.
 * llama_tokenize with add_special=false) and detokenizes as llama_detokenize does, on the small
 * vocabularies: stories260K's SentencePiece (also used by the llama and mistral samples), the
 * qwen2 sample's byte-level BPE, and the Gemma 2/3, Mixtral and Phi-3 family fixtures'
 * SentencePiece models. Texts: fixed varied ones plus seeded random mixes of every character class
 * the splitters distinguish. The GGUF and the HF folder give the same ids.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { detokenize, vocabFromGguf, vocabFromHfFolder } from '../formats/llama-vocab/index.ts';
import { llamaCppUnavailable } from './support/llama-cpp.ts';
import { compareOnTexts, fuzzTexts, loadVocabOnly, TEXTS, writeVocabGguf } from './support/vocab-oracle.ts';

const CASES = [
  { name: 'stories260K (SPM)', dir: 'samples/stories260K', type: 'spm' },
  { name: 'tiny-llama sample (SPM)', dir: 'samples/generated/tiny-llama-f32', type: 'spm' },
  { name: 'tiny-mistral sample (SPM)', dir: 'samples/generated/tiny-mistral-f32', type: 'spm' },
  { name: 'tiny-qwen2 sample (BPE, qwen2)', dir: 'samples/generated/tiny-qwen2-f32', type: 'bpe' },
  // The family fixtures' own small SentencePiece models (Gemma: no space prefix; Phi-3: RSTRIP specials).
  { name: 'gemma2 family (SPM)', dir: 'samples/families/gemma2', type: 'spm' },
  { name: 'gemma3 family (SPM)', dir: 'samples/families/gemma3', type: 'spm' },
  { name: 'mixtral family (SPM)', dir: 'samples/families/mixtral', type: 'spm' },
  { name: 'phi3 family (SPM)', dir: 'samples/families/phi3', type: 'spm' },
] as const;

const ALL_TEXTS = [...TEXTS, ...fuzzTexts(11, 400, 24)];

for (const c of CASES) {
  test(`${c.name}: ids, BOS/EOS, detokenization and every token's piece equal llama.cpp's; GGUF and HF folder agree`, async (t) => {
    if (llamaCppUnavailable) { t.skip(llamaCppUnavailable); return; }
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-llama-vocab-'));
    try {
      const gguf = path.join(tmp, 'vocab.gguf');
      await writeVocabGguf(c.dir, gguf);
      const fromGguf = await vocabFromGguf(gguf);
      const fromHf = await vocabFromHfFolder(c.dir);
      assert.equal(fromGguf.type, c.type);
      const model = await loadVocabOnly(gguf);
      try {
        assert.equal(fromGguf.addBos, model.tokens.shouldPrependBosToken);
        assert.equal(fromGguf.addEos, model.tokens.shouldAppendEosToken);
        assert.equal(fromGguf.special.bos, model.tokens.bos);
        assert.equal(fromGguf.special.eos, model.tokens.eos);
        compareOnTexts(model, fromGguf, fromHf, ALL_TEXTS);
        for (let id = 0; id < fromGguf.tokens.length; id++) {
          for (const special of [false, true]) {
            assert.equal(detokenize(fromGguf, [id], { unparseSpecial: special }), model.detokenize([id] as never, special), `token ${id} special=${special}`);
          }
        }
      } finally {
        await model.dispose();
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
}
