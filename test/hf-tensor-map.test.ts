import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { readGguf } from '../formats/gguf/reader.ts';
import { readSafetensorsHeader } from '../formats/safetensors/reader.ts';
import { FormatError } from '../formats/errors.ts';
import { archFor } from '../formats/hf/architectures.ts';
import { readHfConfig, type HfConfig } from '../formats/hf/config.ts';
import { llama3RopeFreqs } from '../formats/hf/rope-freqs.ts';
import { expectedShape, mapTensors, permuteRowsQK, permutedSourceRow, sortLikeConvert } from '../formats/hf/tensor-map.ts';

const DIR = 'samples/stories260K';
const REF = path.join(DIR, 'reference-convert-f32.gguf');

async function stories() {
  const config = await readHfConfig(DIR);
  const st = await readSafetensorsHeader(path.join(DIR, 'model.safetensors'));
  const hf = [...st.tensors.values()].map((t) => ({ name: t.name, shape: t.shape }));
  return { config, st, hf };
}

test('stories260K: GGUF names, ne shapes and convert order equal the reference convert output', async () => {
  const { config, hf } = await stories();
  const sorted = hf.slice().sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const { tensors, generated } = mapTensors(archFor(config), config, sorted);
  const ref = await readGguf(REF);
  assert.equal(generated.length, 0);
  assert.deepEqual(tensors.map((t) => [t.ggufName, t.ne]), ref.tensors.map((t) => [t.name, t.ne]));
  // F32 reference: the forced-F32 set is exactly the 1-D tensors.
  assert.deepEqual(tensors.filter((t) => t.forceF32).map((t) => t.ggufName), ref.tensors.filter((t) => t.ne.length === 1).map((t) => t.name));
});

test('stories260K: permuted q/k rows are byte-identical to the reference attn_q/attn_k, other tensors unchanged', async () => {
  const { config, st, hf } = await stories();
  const { tensors } = mapTensors(archFor(config), config, hf);
  const ref = await readGguf(REF);
  const stBytes = fs.readFileSync(path.join(DIR, 'model.safetensors'));
  const refBytes = fs.readFileSync(REF);
  let permuted = 0;
  for (const t of tensors) {
    const src = st.tensors.get(t.hfName)!;
    const raw = stBytes.subarray(src.begin, src.end);
    const values = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    const nRows = t.hfShape[0];
    const out = t.permute ? permuteRowsQK(values, nRows, values.length / nRows, t.permute.heads) : values;
    const info = ref.tensors.find((r) => r.name === t.ggufName)!;
    const want = refBytes.subarray(ref.dataOffset + info.offset, ref.dataOffset + info.offset + info.nbytes);
    assert.ok(Buffer.from(out.buffer, out.byteOffset, out.byteLength).equals(want), `${t.ggufName} bytes differ from the reference`);
    if (t.permute) {
      permuted++;
      assert.equal(t.permute.heads, t.ggufName.includes('attn_q') ? 8 : 4);
      assert.ok(!Buffer.from(values.buffer).equals(want), `${t.ggufName}: permutation should change the bytes`);
    }
  }
  assert.equal(permuted, 10);
});

test('sortLikeConvert: parts in order, names byte-wise within a part (layers.10 before layers.2)', () => {
  const ts = [
    { name: 'model.layers.2.mlp.up_proj.weight', file: 'b' }, { name: 'lm_head.weight', file: 'b' },
    { name: 'model.layers.10.mlp.up_proj.weight', file: 'a' }, { name: 'model.layers.2.mlp.up_proj.weight', file: 'a' },
  ];
  assert.deepEqual(sortLikeConvert(ts, ['a', 'b']).map((t) => `${t.file}:${t.name}`), [
    'a:model.layers.10.mlp.up_proj.weight', 'a:model.layers.2.mlp.up_proj.weight', 'b:lm_head.weight', 'b:model.layers.2.mlp.up_proj.weight',
  ]);
});

test('permuteRowsQK interleaves each head\'s halves; permutedSourceRow agrees', () => {
  // 2 heads of 4 rows, row length 2: in-head order [0,1,2,3] -> [0,2,1,3].
  const rows = Float32Array.from({ length: 16 }, (_, i) => i);
  const out = permuteRowsQK(rows, 8, 2, 2);
  assert.deepEqual([...out], [0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15]);
  for (let r = 0; r < 8; r++) assert.equal(out[r * 2], rows[permutedSourceRow(r, 8, 2) * 2]);
  assert.throws(() => permuteRowsQK(rows, 8, 2, 3), RangeError);
});

function fakeConfig(over: Partial<HfConfig>): HfConfig {
  return {
    raw: {}, dir: '/m', file: '/m/config.json', architecture: 'Qwen2ForCausalLM', modelType: 'qwen2',
    hiddenSize: 16, numLayers: 1, numHeads: 4, numKvHeads: 2, headDim: 4, headDimInConfig: false,
    intermediateSize: 24, vocabSize: 32, contextLength: 64, rmsNormEps: 1e-6, ropeTheta: 10000,
    ropeScaling: null, tieWordEmbeddings: false, ...over,
  };
}

function qwenTensors(c: HfConfig) {
  const names = ['model.embed_tokens.weight', 'model.norm.weight', 'lm_head.weight'];
  for (const s of ['input_layernorm.weight', 'post_attention_layernorm.weight', 'self_attn.q_proj.weight', 'self_attn.q_proj.bias',
    'self_attn.k_proj.weight', 'self_attn.k_proj.bias', 'self_attn.v_proj.weight', 'self_attn.v_proj.bias', 'self_attn.o_proj.weight',
    'mlp.gate_proj.weight', 'mlp.up_proj.weight', 'mlp.down_proj.weight']) names.push(`model.layers.0.${s}`);
  return names.map((name) => ({ name, shape: expectedShape(name, c)! }));
}

test('Qwen2: biases map to attn_{q,k,v}.bias, nothing is permuted, untied lm_head becomes output.weight', () => {
  const c = fakeConfig({});
  const { tensors } = mapTensors(archFor(c), c, qwenTensors(c));
  const by = new Map(tensors.map((t) => [t.ggufName, t]));
  assert.deepEqual(by.get('blk.0.attn_q.bias')!.ne, [16]);
  assert.deepEqual(by.get('blk.0.attn_k.bias')!.ne, [8]);
  assert.deepEqual(by.get('blk.0.attn_k.weight')!.ne, [16, 8]);
  assert.deepEqual(by.get('output.weight')!.ne, [16, 32]);
  assert.equal(by.get('blk.0.attn_v.bias')!.forceF32, true);
  assert.ok(tensors.every((t) => t.permute === undefined));
});

test('Qwen2 without q/k/v biases, or untied without lm_head: FormatError naming the missing tensor', () => {
  const c = fakeConfig({});
  const noBias = qwenTensors(c).filter((t) => !t.name.endsWith('q_proj.bias'));
  assert.throws(() => mapTensors(archFor(c), c, noBias), (e: unknown) => e instanceof FormatError && /blk\.0\.attn_q\.bias/.test(e.message) && e.message.includes('/m'));
  const noHead = qwenTensors(c).filter((t) => t.name !== 'lm_head.weight');
  assert.throws(() => mapTensors(archFor(c), c, noHead), (e: unknown) => e instanceof FormatError && /output\.weight/.test(e.message));
  const tied = fakeConfig({ tieWordEmbeddings: true });
  assert.equal(mapTensors(archFor(tied), tied, noHead).tensors.length, 14);
});

test('shape that disagrees with config.json, unknown tensor, layer out of range: FormatError naming the tensor', () => {
  const c = fakeConfig({});
  const bad = qwenTensors(c).map((t) => (t.name.endsWith('mlp.up_proj.weight') ? { ...t, shape: [25, 16] } : t));
  assert.throws(() => mapTensors(archFor(c), c, bad), (e: unknown) => e instanceof FormatError && e.code === 'TENSOR_SHAPE'
    && e.message.includes("'model.layers.0.mlp.up_proj.weight'") && e.message.includes('[25, 16]') && e.message.includes('[24, 16]'));
  const extra = [...qwenTensors(c), { name: 'model.vision_tower.weight', shape: [4] }];
  assert.throws(() => mapTensors(archFor(c), c, extra), (e: unknown) => e instanceof FormatError && e.code === 'UNMAPPED_TENSOR' && e.message.includes('model.vision_tower.weight'));
  const layer9 = [...qwenTensors(c), { name: 'model.layers.9.input_layernorm.weight', shape: [16] }];
  assert.throws(() => mapTensors(archFor(c), c, layer9), (e: unknown) => e instanceof FormatError && e.code === 'TENSOR_LAYER');
  // Buffers convert skips are ignored.
  assert.doesNotThrow(() => mapTensors(archFor(c), c, [...qwenTensors(c), { name: 'model.layers.0.self_attn.rotary_emb.inv_freq', shape: [2] }]));
  assert.deepEqual(expectedShape('model.layers.0.self_attn.o_proj.weight', c), [16, 16]);
  assert.equal(expectedShape('not.a.tensor', c), undefined);
});

test('bare LlamaModel checkpoints get the model. prefix', async () => {
  const { config, hf } = await stories();
  const bare = { ...config, architecture: 'LlamaModel' };
  const stripped = hf.map((t) => ({ ...t, name: t.name.replace(/^model\./, '') }));
  const { tensors } = mapTensors(archFor(bare), bare, stripped);
  assert.ok(tensors.some((t) => t.ggufName === 'blk.4.attn_q.weight' && t.hfName === 'layers.4.self_attn.q_proj.weight'));
});

test('Llama 3 rope scaling generates rope_freqs.weight (float32 replay of convert), others do not', () => {
  const c = fakeConfig({
    architecture: 'LlamaForCausalLM', hiddenSize: 4096, numHeads: 32, numKvHeads: 8, headDim: 128, ropeTheta: 500000,
    ropeScaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 },
  });
  const f = llama3RopeFreqs(c, c.ropeScaling!);
  assert.equal(f.length, 64);
  // Independent double-precision evaluation of the same formula: equal to float32 rounding.
  for (let i = 0; i < 64; i++) {
    const freq = 1 / Math.pow(500000, (2 * i) / 128);
    const wl = (2 * Math.PI) / freq;
    const want = wl < 2048 ? 1 : wl > 8192 ? 8 : 1 / ((1 - (8192 / wl - 1) / 3) / 8 + (8192 / wl - 1) / 3);
    assert.ok(Math.abs(f[i] - want) <= 4e-7 * want, `rope_freqs[${i}] = ${f[i]}, double formula ${want}`);
  }
  assert.equal(f[0], 1);
  assert.equal(f[63], 8);
  assert.ok(f.some((v) => v > 1 && v < 8), 'some factors fall in the smooth band');
  // Through mapTensors: a small Llama with llama3 scaling gets rope_freqs [head_dim/2]; Qwen2 never does.
  const small = fakeConfig({ architecture: 'LlamaForCausalLM', ropeScaling: { rope_type: 'llama3', factor: 8 } });
  const llamaTensors = qwenTensors(small).filter((t) => !t.name.endsWith('.bias'));
  const { generated } = mapTensors(archFor(small), small, llamaTensors);
  assert.deepEqual(generated.map((g) => [g.ggufName, g.ne, g.data.length]), [['rope_freqs.weight', [2], 2]]);
  const qwen = fakeConfig({ ropeScaling: { rope_type: 'llama3', factor: 8 } });
  assert.equal(mapTensors(archFor(qwen), qwen, qwenTensors(qwen)).generated.length, 0);
});
