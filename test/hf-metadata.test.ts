import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gguf } from '@huggingface/gguf';
import { FormatError, ForgeError, UnsupportedError } from '../formats/errors.ts';
import { GgufValueType, type GgufKv } from '../formats/gguf/value-types.ts';
import { archFor, SUPPORTED_ARCHITECTURES } from '../formats/hf/architectures.ts';
import { readHfConfig } from '../formats/hf/config.ts';
import { buildGgufMetadata } from '../formats/hf/gguf-metadata.ts';
import { idToTitle } from '../formats/hf/general-name.ts';
import { countParameters, sizeLabel } from '../formats/hf/size-label.ts';
import { ensureSamples, SAMPLE } from '../samples/lib/index.ts';

const DIR = 'samples/stories260K';

/** Reference KVs as [key, type, elemType, value] with @huggingface/gguf's typed metadata. */
async function referenceKvs(): Promise<[string, number, number | undefined, unknown][]> {
  const r = await gguf(path.join(DIR, 'reference-convert-f32.gguf'), { allowLocalFile: true, typedMetadata: true });
  return Object.entries(r.typedMetadata)
    .filter(([k]) => !['version', 'tensor_count', 'kv_count'].includes(k))
    .map(([k, v]) => [k, v.type as number, (v as { subType?: number }).subType, v.value]);
}

function plain(kv: GgufKv): unknown {
  if (kv.type === GgufValueType.ARRAY) return Array.from(kv.value as ArrayLike<unknown>);
  return kv.value;
}

async function storiesMetadata() {
  const config = await readHfConfig(DIR);
  return buildGgufMetadata(DIR, config, archFor(config), { fileTypeId: 0, parameterCount: 260032 });
}

test('stories260K: every KV equals convert_hf_to_gguf.py output — keys in order, value types, values', async () => {
  const ref = await referenceKvs();
  const { kvs, warnings } = await storiesMetadata();
  assert.deepEqual(warnings, []);
  assert.deepEqual(kvs.map((k) => k.key), ref.map(([k]) => k));
  for (let i = 0; i < ref.length; i++) {
    const [key, type, elemType, value] = ref[i];
    const ours = kvs[i];
    assert.equal(ours.type, type, `${key}: value type`);
    if (ours.type === GgufValueType.ARRAY) assert.equal(ours.elemType, elemType, `${key}: element type`);
    // The reference stores float32; compare our numbers after float32 rounding, everything else exactly.
    const f32 = ours.type === GgufValueType.FLOAT32 || (ours.type === GgufValueType.ARRAY && ours.elemType === GgufValueType.FLOAT32);
    const mine = plain(ours);
    const want = f32 ? (Array.isArray(mine) ? (mine as number[]).map(Math.fround) : Math.fround(mine as number)) : mine;
    assert.deepEqual(want, value, `${key}: value`);
  }
});

test('stories260K tokenizer arrays: tokens, scores and token types equal the reference exactly', async () => {
  const ref = new Map((await referenceKvs()).map(([k, , , v]) => [k, v]));
  const { kvs } = await storiesMetadata();
  const ours = new Map(kvs.map((k) => [k.key, plain(k)]));
  const tokens = ours.get('tokenizer.ggml.tokens') as string[];
  assert.equal(tokens.length, 512);
  assert.deepEqual(tokens, ref.get('tokenizer.ggml.tokens'));
  assert.deepEqual((ours.get('tokenizer.ggml.scores') as number[]).map(Math.fround), ref.get('tokenizer.ggml.scores'));
  assert.deepEqual(ours.get('tokenizer.ggml.token_type'), ref.get('tokenizer.ggml.token_type'));
  // Real SentencePiece content: byte pieces are type 6, merges have negative scores.
  assert.equal(tokens[13], '<0x0A>');
  assert.ok((ours.get('tokenizer.ggml.scores') as number[]).some((s) => s < 0));
});

test('general.name defaults to the folder name through gguf-py id_to_title', () => {
  assert.equal(idToTitle('stories260K'), 'stories260K');
  assert.equal(idToTitle('tiny-qwen2-f32'), 'Tiny Qwen2 F32');
  assert.equal(idToTitle('Meta-Llama-3-8B'), 'Meta Llama 3 8B');
  assert.equal(idToTitle('llama-v1.5-7b-chat_model'), 'Llama v1.5 7b Chat_Model');
});

test('size label and parameter count follow gguf-py', () => {
  assert.equal(sizeLabel(260032), '260K');
  assert.equal(sizeLabel(494_032_768), '494M');
  assert.equal(sizeLabel(7_241_732_096), '7.2B');
  assert.equal(countParameters([[512, 64], [64], [2, 3]]), 512 * 64 + 64 + 6);
});

test('generated Qwen2 sample: gpt2 tokenizer with merges, qwen2 pre-tokenizer by definition (warned), special ids as convert orders them', async () => {
  const root = await ensureSamples();
  const dir = path.join(root, SAMPLE.qwen2.f32);
  const config = await readHfConfig(dir);
  const { kvs, warnings } = await buildGgufMetadata(dir, config, archFor(config), { fileTypeId: 1 });
  const by = new Map(kvs.map((k) => [k.key, k]));
  assert.equal(by.get('general.architecture')!.value, 'qwen2');
  assert.equal(by.get('tokenizer.ggml.model')!.value, 'gpt2');
  assert.equal(by.get('tokenizer.ggml.pre')!.value, 'qwen2');
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0].code, 'PRE_TOKENIZER_BY_DEFINITION');
  assert.match(warnings[0].message, /chktxt hash [0-9a-f]{64}/);
  const merges = by.get('tokenizer.ggml.merges')!;
  assert.equal(merges.type, GgufValueType.ARRAY);
  assert.equal(merges.type === GgufValueType.ARRAY && merges.elemType, GgufValueType.STRING);
  assert.ok((merges.value as string[]).every((m) => m.split(' ').length === 2));
  const types = Array.from(by.get('tokenizer.ggml.token_type')!.value as ArrayLike<number>);
  assert.deepEqual(types.slice(509), [3, 3, 3]);
  // Qwen2 writes neither vocab_size nor rope.dimension_count nor key_length (no head_dim in config).
  assert.ok(!by.has('qwen2.vocab_size') && !by.has('qwen2.rope.dimension_count') && !by.has('qwen2.attention.key_length'));
  for (const k of ['qwen2.block_count', 'qwen2.context_length', 'qwen2.attention.head_count_kv', 'tokenizer.ggml.eos_token_id', 'general.file_type']) {
    assert.equal(by.get(k)!.type, GgufValueType.UINT32, k);
  }
  assert.equal(by.get('qwen2.rope.freq_base')!.type, GgufValueType.FLOAT32);
  assert.deepEqual(kvs.filter((k) => /_token_id$/.test(k.key)).map((k) => [k.key, k.value]),
    [['tokenizer.ggml.eos_token_id', 511], ['tokenizer.ggml.padding_token_id', 509], ['tokenizer.ggml.bos_token_id', 509]]);
  assert.equal(by.get('tokenizer.ggml.add_bos_token')!.value, false);
  assert.match(String(by.get('tokenizer.chat_template')!.value), /<\|im_start\|>/);
  // --pre overrides detection, with no warning.
  const forced = await buildGgufMetadata(dir, config, archFor(config), { fileTypeId: 1, pre: 'deepseek-r1-qwen' });
  assert.equal(forced.kvs.find((k) => k.key === 'tokenizer.ggml.pre')!.value, 'deepseek-r1-qwen');
  assert.deepEqual(forced.warnings, []);
});

test('rope scaling keys: linear and yarn are written with their types; llama3 writes none', async () => {
  const dir = tempModel({ rope_scaling: { rope_type: 'yarn', factor: 4, original_max_position_embeddings: 32768, beta_fast: 32 } });
  const c = await readHfConfig(dir);
  const { kvs } = await buildGgufMetadata(dir, c, archFor(c), { fileTypeId: 1 });
  const by = new Map(kvs.map((k) => [k.key, k]));
  assert.deepEqual([by.get('llama.rope.scaling.type')!.value, by.get('llama.rope.scaling.factor')!.type, by.get('llama.rope.scaling.original_context_length')!.type, by.get('llama.rope.scaling.yarn_beta_fast')!.value],
    ['yarn', GgufValueType.FLOAT32, GgufValueType.UINT32, 32]);
  const dir3 = tempModel({ rope_scaling: { rope_type: 'llama3', factor: 8 } });
  const c3 = await readHfConfig(dir3);
  const m3 = await buildGgufMetadata(dir3, c3, archFor(c3), { fileTypeId: 1 });
  assert.ok(!m3.kvs.some((k) => k.key.startsWith('llama.rope.scaling')));
});

test('fields config.json omits get transformers\' AutoConfig defaults (context length, rope theta, eps, kv heads)', async () => {
  const dir = tempModel({ max_position_embeddings: undefined, rope_theta: undefined, rms_norm_eps: undefined, num_key_value_heads: undefined });
  const c = await readHfConfig(dir);
  const { kvs } = await buildGgufMetadata(dir, c, archFor(c), { fileTypeId: 0 });
  const by = new Map(kvs.map((k) => [k.key, k.value]));
  assert.equal(by.get('llama.context_length'), 2048);
  assert.equal(by.get('llama.rope.freq_base'), 10000);
  assert.equal(by.get('llama.attention.layer_norm_rms_epsilon'), 1e-6);
  assert.equal(by.get('llama.attention.head_count_kv'), 8);
});

// ---- bad input: each a typed error naming the file ----

function tempModel(configPatch: Record<string, unknown> | null, files: Record<string, string> = {}, keepTokenizer = true): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-hfmeta-'));
  const base = JSON.parse(fs.readFileSync(path.join(DIR, 'config.json'), 'utf8'));
  if (configPatch) fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...base, ...configPatch }));
  if (keepTokenizer) for (const f of ['tokenizer.model', 'tokenizer.json', 'tokenizer_config.json']) fs.copyFileSync(path.join(DIR, f), path.join(dir, f));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

function namesFile(file: string) {
  return (e: unknown) => e instanceof ForgeError && e.message.includes(file);
}

test('config.json missing, or not JSON: FormatError naming config.json', async () => {
  const none = tempModel(null);
  await assert.rejects(readHfConfig(none), (e: unknown) => e instanceof FormatError && e.code === 'MISSING_CONFIG' && namesFile(path.join(none, 'config.json'))(e));
  const bad = tempModel(null, { 'config.json': '{"architectures": ["LlamaForCausalLM"],' });
  await assert.rejects(readHfConfig(bad), (e: unknown) => e instanceof FormatError && e.code === 'INVALID_JSON' && namesFile(path.join(bad, 'config.json'))(e));
});

test('missing or mistyped required config fields: FormatError naming the field and file', async () => {
  const dir = tempModel({ hidden_size: undefined });
  await assert.rejects(readHfConfig(dir), (e: unknown) => e instanceof FormatError && /"hidden_size"/.test(e.message) && namesFile('config.json')(e));
  const dir2 = tempModel({ num_hidden_layers: '5' });
  await assert.rejects(readHfConfig(dir2), (e: unknown) => e instanceof FormatError && /num_hidden_layers/.test(e.message) && /positive integer/.test(e.message));
  const dir3 = tempModel({ architectures: [] });
  await assert.rejects(readHfConfig(dir3), (e: unknown) => e instanceof FormatError && /architectures/.test(e.message));
});

test('unsupported architecture: UnsupportedError listing the supported ones', async () => {
  const dir = tempModel({ architectures: ['GPTNeoXForCausalLM'] });
  const c = await readHfConfig(dir);
  assert.throws(() => archFor(c), (e: unknown) => e instanceof UnsupportedError && e.message.includes('GPTNeoXForCausalLM')
    && SUPPORTED_ARCHITECTURES.every((a) => e.message.includes(a)) && e.message.includes(path.join(dir, 'config.json')));
  assert.ok(['LlamaForCausalLM', 'MistralForCausalLM', 'Qwen2ForCausalLM'].every((a) => SUPPORTED_ARCHITECTURES.includes(a)));
});

test('no tokenizer.model and no tokenizer.json: FormatError naming the folder', async () => {
  const dir = tempModel({}, {}, false);
  const c = await readHfConfig(dir);
  await assert.rejects(buildGgufMetadata(dir, c, archFor(c), { fileTypeId: 0 }),
    (e: unknown) => e instanceof FormatError && e.code === 'MISSING_TOKENIZER' && namesFile(dir)(e));
  const broken = tempModel({}, { 'tokenizer.json': '{"model": ' }, false);
  const c2 = await readHfConfig(broken);
  await assert.rejects(buildGgufMetadata(broken, c2, archFor(c2), { fileTypeId: 0 }),
    (e: unknown) => e instanceof FormatError && namesFile(path.join(broken, 'tokenizer.json'))(e));
});
