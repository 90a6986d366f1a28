/**
 * Issue 16 items 1 and 3: `general.sampling.*` as gguf-py's Metadata writes them from
 * generation_config.json, and Mistral's key/value_length as the pinned converter writes them
 * (MistralConfig.head_dim defaults to None; LlamaConfig's to hidden_size / num_attention_heads).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GgufValueType } from '../formats/gguf/value-types.ts';
import { KvList } from '../formats/hf/kv-list.ts';
import { addSamplingKvs, readGenerationConfig } from '../formats/hf/sampling-kvs.ts';
import { buildGgufMetadata } from '../formats/hf/gguf-metadata.ts';
import { readHfConfig } from '../formats/hf/config.ts';
import { archFor } from '../formats/hf/architectures.ts';
import { modelIdComponents } from '../formats/hf/model-id.ts';
import { ensureSamples, SAMPLE } from '../samples/lib/index.ts';

let tmp: string;
let samples: string;
before(async () => { tmp = mkdtempSync(join(tmpdir(), 'gguf-forge-sampling-')); samples = await ensureSamples(); });
after(() => rmSync(tmp, { recursive: true, force: true }));

const sampling = (gen: Record<string, unknown>) => {
  const kv = new KvList();
  addSamplingKvs(kv, gen);
  return kv.toArray().map((k) => [k.key, k.type, k.value]);
};

test('every general.sampling key, in set_gguf_meta_model order, with gguf_writer\'s types (INT32 for top_k, penalty_last_n, mirostat)', () => {
  const all = { mirostat_eta: 0.1, mirostat_tau: 5, mirostat: 2, penalty_last_n: 64, repetition_penalty: 1.3, temperature: 0.8,
    xtc_threshold: 0.1, xtc_probability: 0.5, min_p: 0.05, top_p: 0.9, top_k: 40, sequence: 'edkypmxt' };
  const f = Math.fround;
  assert.deepEqual(sampling(all), [
    ['general.sampling.sequence', GgufValueType.STRING, 'edkypmxt'],
    ['general.sampling.top_k', GgufValueType.INT32, 40],
    ['general.sampling.top_p', GgufValueType.FLOAT32, 0.9],
    ['general.sampling.min_p', GgufValueType.FLOAT32, 0.05],
    ['general.sampling.xtc_probability', GgufValueType.FLOAT32, 0.5],
    ['general.sampling.xtc_threshold', GgufValueType.FLOAT32, 0.1],
    ['general.sampling.temp', GgufValueType.FLOAT32, 0.8],
    ['general.sampling.penalty_last_n', GgufValueType.INT32, 64],
    ['general.sampling.penalty_repeat', GgufValueType.FLOAT32, 1.3],
    ['general.sampling.mirostat', GgufValueType.INT32, 2],
    ['general.sampling.mirostat_tau', GgufValueType.FLOAT32, 5],
    ['general.sampling.mirostat_eta', GgufValueType.FLOAT32, 0.1],
  ]);
  assert.ok(f(0.9) !== 0.9, 'the writer rounds to float32 when it stores the value');
});

test('precedence: penalty_repeat over repetition_penalty, even when null; null and absent fields are not written', () => {
  assert.deepEqual(sampling({ penalty_repeat: 1.2, repetition_penalty: 1.5 }), [['general.sampling.penalty_repeat', GgufValueType.FLOAT32, 1.2]]);
  assert.deepEqual(sampling({ penalty_repeat: null, repetition_penalty: 1.5 }), []);
  assert.deepEqual(sampling({ temperature: null, top_k: 20, do_sample: true, max_length: 512 }), [['general.sampling.top_k', GgufValueType.INT32, 20]]);
});

test('a missing or broken generation_config.json is ignored, as Metadata.load_generation_config does', async () => {
  assert.deepEqual(await readGenerationConfig(tmp), {});
  writeFileSync(join(tmp, 'generation_config.json'), '{ not json');
  assert.deepEqual(await readGenerationConfig(tmp), {});
});

async function keyLengthKeys(arch: string, headDim: number | undefined): Promise<string[]> {
  const dir = join(tmp, `${arch}-${headDim ?? 'none'}`);
  cpSync(join(samples, SAMPLE.mistral.f16), dir, { recursive: true });
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  config.architectures = [arch];
  if (headDim === undefined) delete config.head_dim; else config.head_dim = headDim;
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  const c = await readHfConfig(dir);
  const { kvs } = await buildGgufMetadata(dir, c, archFor(c), { fileTypeId: 1 });
  return kvs.filter((k) => /\.attention\.(key|value)_length$/.test(k.key)).map((k) => `${k.key}=${k.value}`);
}

test('Mistral without head_dim in config.json writes no key_length/value_length; with it, and Llama always, they are written', async () => {
  assert.deepEqual(await keyLengthKeys('MistralForCausalLM', undefined), []);
  assert.deepEqual(await keyLengthKeys('MistralForCausalLM', 64), ['llama.attention.key_length=64', 'llama.attention.value_length=64']);
  assert.deepEqual(await keyLengthKeys('LlamaForCausalLM', undefined), ['llama.attention.key_length=64', 'llama.attention.value_length=64']);
});

test('model-id naming (gguf-py get_model_id_components): Phi-3-mini-4k-instruct (4k is a context length, mini the size), Llama-3.1-8B-Instruct', () => {
  assert.deepEqual(modelIdComponents('Phi-3-mini-4k-instruct', 150_000),
    { full: 'Phi-3-mini-4k-instruct', org: undefined, basename: 'Phi-3', finetune: '4k-instruct', version: undefined, sizeLabel: 'mini' });
  assert.deepEqual(modelIdComponents('meta-llama/Llama-3.1-8B-Instruct', 8_000_000_000),
    { full: 'Llama-3.1-8B-Instruct', org: 'meta-llama', basename: 'Llama-3.1', finetune: 'Instruct', version: undefined, sizeLabel: '8B' });
  assert.equal(modelIdComponents('stories260K', 260_000).basename, undefined);
});
