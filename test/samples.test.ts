import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensureSamples, generateSamples, isUpToDate, SAMPLE, SAMPLE_SPECS } from '../samples/lib/index.ts';
import { f32ToBf16Bits, f32ToF16Bits, encodeFloats } from '../samples/lib/half.ts';
import { encodeByteLevelBpe, decodeByteLevelBpe, QWEN2_SPLIT_PATTERN } from '../samples/lib/byte-bpe.ts';
import { qwen2Bpe } from '../samples/lib/qwen2-tokenizer.ts';
import { openSafetensorsModel, type SafetensorsModel } from '../formats/safetensors/model.ts';
import { toFloat32 } from '../formats/safetensors/dtypes.ts';
import { GgmlTypeId } from '../kernels/ggml-types.ts';
import { loadLlamaCpp, llamaCppUnavailable } from './support/llama-cpp.ts';

const repo = fileURLToPath(new URL('..', import.meta.url));
const stories = path.join(repo, 'samples', 'stories260K');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'forge-samples-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8'));

async function withModel<T>(dir: string, fn: (m: SafetensorsModel) => Promise<T>): Promise<T> {
  const m = await openSafetensorsModel(dir);
  try {
    return await fn(m);
  } finally {
    await m.close();
  }
}

/** Every file under `root`, relative path → contents. */
function snapshot(root: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (dir: string) => {
    for (const f of fs.readdirSync(dir).sort()) {
      const p = path.join(dir, f);
      if (fs.statSync(p).isDirectory()) walk(p);
      else out.set(path.relative(root, p), fs.readFileSync(p));
    }
  };
  walk(root);
  return out;
}

test('every sample exists with config, tokenizer, generation config and parseable weights', async () => {
  const root = await ensureSamples();
  assert.equal(SAMPLE_SPECS.length, 12);
  for (const spec of SAMPLE_SPECS) {
    const dir = path.join(root, spec.name);
    for (const f of ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json']) {
      assert.ok(fs.existsSync(path.join(dir, f)), `${spec.name}/${f}`);
    }
    const cfg = readJson(path.join(dir, 'config.json'));
    assert.equal(cfg.torch_dtype, { F32: 'float32', F16: 'float16', BF16: 'bfloat16' }[spec.dtype]);
    assert.ok(cfg.num_key_value_heads < cfg.num_attention_heads, `${spec.name} uses GQA`);
    assert.equal(cfg.hidden_size % 256, 0);
    assert.equal(cfg.intermediate_size % 256, 0);
    const headDim = cfg.head_dim ?? cfg.hidden_size / cfg.num_attention_heads;
    assert.equal(headDim, 64);

    await withModel(dir, async (m) => {
      assert.equal(m.files.length, spec.shards);
      for (const h of m.headers) assert.deepEqual(h.metadata, { format: 'pt' });
      for (const t of m.tensors.values()) assert.equal(t.dtype, spec.dtype, `${spec.name} ${t.name}`);
      assert.deepEqual(m.tensors.get('model.embed_tokens.weight')!.shape, [cfg.vocab_size, cfg.hidden_size]);
      assert.equal(m.tensors.has('lm_head.weight'), !cfg.tie_word_embeddings);
      const layers = new Set([...m.tensors.keys()].map((n) => /^model\.layers\.(\d+)\./.exec(n)?.[1]).filter(Boolean));
      assert.equal(layers.size, cfg.num_hidden_layers);
      assert.deepEqual(m.tensors.get('model.layers.1.self_attn.k_proj.weight')!.shape, [cfg.num_key_value_heads * headDim, cfg.hidden_size]);
      assert.deepEqual(m.tensors.get('model.layers.0.mlp.down_proj.weight')!.shape, [cfg.hidden_size, cfg.intermediate_size]);
      const bytes = m.files.reduce((s, f) => s + fs.statSync(f).size, 0);
      assert.ok(bytes < (spec.dtype === 'F32' ? 6_000_000 : 3_000_000), `${spec.name} is ${bytes} bytes`);
    });
  }
});

test('architecture specifics: llama untied, qwen2 q/k/v biases and tied embeddings, mistral with null sliding window', async () => {
  const root = await ensureSamples();
  const llama = readJson(path.join(root, SAMPLE.llama.f32, 'config.json'));
  assert.deepEqual([llama.architectures, llama.model_type, llama.tie_word_embeddings], [['LlamaForCausalLM'], 'llama', false]);
  const mistral = readJson(path.join(root, SAMPLE.mistral.bf16, 'config.json'));
  assert.deepEqual([mistral.architectures, mistral.model_type, mistral.sliding_window], [['MistralForCausalLM'], 'mistral', null]);
  const qwen = readJson(path.join(root, SAMPLE.qwen2.bf16, 'config.json'));
  assert.deepEqual([qwen.architectures, qwen.model_type, qwen.tie_word_embeddings], [['Qwen2ForCausalLM'], 'qwen2', true]);
  await withModel(path.join(root, SAMPLE.qwen2.bf16), async (m) => {
    for (const p of ['q', 'k', 'v']) assert.ok(m.tensors.has(`model.layers.0.self_attn.${p}_proj.bias`));
    assert.equal(m.tensors.has('model.layers.0.self_attn.o_proj.bias'), false);
  });
  await withModel(path.join(root, SAMPLE.llama.bf16), async (m) => {
    assert.equal([...m.tensors.keys()].some((n) => n.endsWith('.bias')), false);
  });
  // The SentencePiece samples carry stories260K's tokenizer unchanged.
  for (const name of [SAMPLE.llama.bf16, SAMPLE.mistral.f16]) {
    for (const f of ['tokenizer.json', 'tokenizer.model', 'tokenizer_config.json']) {
      assert.ok(fs.readFileSync(path.join(root, name, f)).equals(fs.readFileSync(path.join(stories, f))), `${name}/${f}`);
    }
  }
});

test('F16 and BF16 variants are the F32 weights rounded to nearest even; shards hold the same tensors as the single file', async () => {
  const root = await ensureSamples();
  for (const arch of ['llama', 'qwen2', 'mistral'] as const) {
    const names = SAMPLE[arch];
    await withModel(path.join(root, names.f32), (f32) => withModel(path.join(root, names.f16), (f16) =>
      withModel(path.join(root, names.bf16), (bf16) => withModel(path.join(root, names.sharded), async (sharded) => {
        assert.deepEqual([...f32.tensors.keys()].sort(), [...bf16.tensors.keys()].sort());
        assert.deepEqual([...sharded.tensors.keys()].sort(), [...bf16.tensors.keys()].sort());
        assert.deepEqual(sharded.files.map((f) => path.basename(f)), ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
        for (const name of f32.tensors.keys()) {
          const values = toFloat32('F32', await f32.readTensor(name));
          assert.deepEqual(await f16.readTensor(name), encodeFloats(values, 'F16'), `${arch} f16 ${name}`);
          const b = await bf16.readTensor(name);
          assert.deepEqual(b, encodeFloats(values, 'BF16'), `${arch} bf16 ${name}`);
          assert.deepEqual(await sharded.readTensor(name), b, `${arch} sharded ${name}`);
          assert.deepEqual(sharded.tensors.get(name)!.shape, bf16.tensors.get(name)!.shape);
        }
        const index = readJson(path.join(root, names.sharded, 'model.safetensors.index.json'));
        const dataBytes = [...bf16.tensors.values()].reduce((s, t) => s + t.end - t.begin, 0);
        assert.equal(index.metadata.total_size, dataBytes);
      }))));
  }
});

test('generated weights have realistic statistics: N(0, 0.02) with outliers, norms near 1', async () => {
  const root = await ensureSamples();
  await withModel(path.join(root, SAMPLE.llama.f32), async (m) => {
    const w = toFloat32('F32', await m.readTensor('model.layers.0.mlp.up_proj.weight'));
    let sum = 0, sq = 0, big = 0;
    for (const x of w) { sum += x; sq += x * x; if (Math.abs(x) > 0.1) big++; }
    const mean = sum / w.length;
    const std = Math.sqrt(sq / w.length - mean * mean);
    assert.ok(Math.abs(mean) < 0.002, `mean ${mean}`);
    assert.ok(std > 0.018 && std < 0.035, `std ${std}`);
    assert.ok(big >= 20, `${big} outliers beyond 5 sigma`);
    const norm = toFloat32('F32', await m.readTensor('model.norm.weight'));
    const nmean = norm.reduce((a, b) => a + b, 0) / norm.length;
    assert.ok(Math.abs(nmean - 1) < 0.1, `norm mean ${nmean}`);
    assert.ok(norm.every((x) => x > 0.5 && x < 4.5));
  });
});

test('generation is byte-identical run to run', async () => {
  const a = path.join(tmp, 'a');
  const b = path.join(tmp, 'b');
  await generateSamples(a);
  await generateSamples(b);
  const sa = snapshot(a);
  const sb = snapshot(b);
  assert.deepEqual([...sa.keys()], [...sb.keys()]);
  for (const [f, bytes] of sa) assert.ok(bytes.equals(sb.get(f)!), `${f} differs between runs`);
  // ...and identical to what ensureSamples() left in samples/generated.
  const real = snapshot(await ensureSamples());
  assert.deepEqual([...real.keys()], [...sa.keys()]);
  for (const [f, bytes] of sa) assert.ok(bytes.equals(real.get(f)!), `${f} differs from samples/generated`);
});

test('the stamp detects missing or changed outputs; a current folder is left untouched', async () => {
  const dir = path.join(tmp, 'stamp');
  await generateSamples(dir);
  assert.equal(isUpToDate(dir), true);
  assert.equal(isUpToDate(dir, 'another-fingerprint'), false);
  fs.truncateSync(path.join(dir, SAMPLE.qwen2.f16, 'model.safetensors'), 100);
  assert.equal(isUpToDate(dir), false);
  fs.rmSync(path.join(dir, SAMPLE.mistral.f32), { recursive: true });
  assert.equal(isUpToDate(dir), false);

  const root = await ensureSamples();
  const stamp = path.join(root, 'stamp.json');
  const before = fs.statSync(stamp).mtimeMs;
  const out = execFileSync(process.execPath, ['--import', 'tsx', path.join(repo, 'samples', 'generate.ts')], { cwd: repo, encoding: 'utf8' });
  assert.match(out, /12 models/);
  assert.equal(fs.statSync(stamp).mtimeMs, before, 'an up-to-date generation must not rewrite anything');
});

test('sample fp16/bf16 rounding matches llama.cpp (ggml_fp32_to_fp16 / ggml_fp32_to_bf16)', async (t) => {
  if (llamaCppUnavailable) return t.skip(llamaCppUnavailable);
  const cpp = await loadLlamaCpp();
  const values: number[] = [0, -0, 1, -1, 65504, 65519, 65520, 1e6, -1e6, 2 ** -24, 2 ** -25, 2 ** -25 * 1.0001, 3 * 2 ** -26, 6.1e-5, 1e-8, Infinity, -Infinity];
  // Exact ties at every rounding position, plus a dense random sweep over magnitudes.
  for (let e = -30; e < 17; e++) for (const m of [1 + 2 ** -11, 1 + 3 * 2 ** -11, 1 + 2 ** -8, 1 + 3 * 2 ** -8]) values.push(m * 2 ** e, -m * 2 ** e);
  let s = 12345;
  for (let i = 0; i < 20000; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    values.push(((s / 2 ** 32) - 0.5) * 2 ** ((i % 48) - 30));
  }
  const f32 = new Float32Array(values);
  const ours16 = new Uint16Array(f32.length).map((_, i) => f32ToF16Bits(f32[i]));
  const ref16 = new Uint16Array(cpp.quantizeChunk(GgmlTypeId.F16, f32, 1, f32.length).slice().buffer);
  assert.deepEqual(ours16, ref16);
  const oursBf = new Uint16Array(f32.length).map((_, i) => f32ToBf16Bits(f32[i]));
  const refBf = new Uint16Array(cpp.quantizeChunk(GgmlTypeId.BF16, f32, 1, f32.length).slice().buffer);
  assert.deepEqual(oursBf, refBf);
});

test('qwen2 tokenizer.json is a valid byte-level BPE in Qwen2 style', async () => {
  const root = await ensureSamples();
  const dir = path.join(root, SAMPLE.qwen2.bf16);
  const tok = readJson(path.join(dir, 'tokenizer.json'));
  const cfg = readJson(path.join(dir, 'config.json'));
  const tcfg = readJson(path.join(dir, 'tokenizer_config.json'));

  assert.equal(tok.model.type, 'BPE');
  assert.equal(tok.model.byte_fallback, false);
  assert.deepEqual(tok.decoder, { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false });
  const [split, byteLevel] = tok.pre_tokenizer.pretokenizers;
  assert.equal(tok.pre_tokenizer.type, 'Sequence');
  assert.deepEqual([split.type, split.behavior, split.pattern.Regex], ['Split', 'Isolated', QWEN2_SPLIT_PATTERN]);
  assert.equal(split.pattern.Regex, "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+");
  assert.equal(byteLevel.type, 'ByteLevel');

  const vocab: Record<string, number> = tok.model.vocab;
  const ids = Object.values(vocab).sort((a, b) => a - b);
  assert.deepEqual(ids, [...Array(509).keys()], 'vocab ids are 0..508 with no gaps or duplicates');
  // The 256 byte tokens in GPT-2's byte-to-unicode numbering.
  assert.equal(vocab['!'], 0);
  assert.equal(vocab['Ġ'], 220); // space
  assert.equal(vocab['Ċ'], 198); // newline
  assert.equal(tok.model.merges.length, 253);
  tok.model.merges.forEach((m: string, rank: number) => {
    const [a, b, extra] = m.split(' ');
    assert.equal(extra, undefined);
    assert.ok(a in vocab && b in vocab, `merge ${rank} parts are tokens`);
    assert.equal(vocab[a + b], 256 + rank, `merge ${rank} result is token ${256 + rank}`);
  });
  assert.deepEqual(tok.added_tokens.map((t: { id: number; content: string; special: boolean }) => [t.id, t.content, t.special]),
    [[509, '<|endoftext|>', true], [510, '<|im_start|>', true], [511, '<|im_end|>', true]]);
  assert.equal(cfg.vocab_size, 512, 'config vocab covers every token id');
  assert.deepEqual([cfg.bos_token_id, cfg.eos_token_id], [509, 511]);
  assert.equal(tcfg.eos_token, '<|im_end|>');

  // The learned merges really compress text and round-trip bytes exactly, including non-ASCII.
  const bpe = qwen2Bpe();
  const text = "The children read the stories by the harbor. It's 2024!\n\n  Naïve café, 東京 🚀";
  const enc = encodeByteLevelBpe(bpe, text);
  assert.ok(enc.every((id) => id < 509));
  assert.ok(enc.length < new TextEncoder().encode(text).length * 0.6, `${enc.length} tokens`);
  assert.equal(decodeByteLevelBpe(bpe, enc), text);
});

test('qwen2 chat template renders ChatML with @huggingface/jinja', async () => {
  const { Template } = await import('@huggingface/jinja');
  const root = await ensureSamples();
  const tcfg = readJson(path.join(root, SAMPLE.qwen2.f32, 'tokenizer_config.json'));
  const out = new Template(tcfg.chat_template).render({ messages: [{ role: 'user', content: 'Hi' }], add_generation_prompt: true });
  assert.equal(out, '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
});

/**
 * End to end: each architecture's sample, converted to an F32 GGUF with the repo's HF mapping and
 * GGUF writer, loads in llama.cpp; llama.cpp tokenizes the Qwen2 sample exactly as our BPE does.
 */
async function convertToF32Gguf(dir: string, out: string): Promise<void> {
  const { readHfConfig } = await import('../formats/hf/config.ts');
  const { archFor } = await import('../formats/hf/architectures.ts');
  const { mapTensors, permuteRowsQK } = await import('../formats/hf/tensor-map.ts');
  const { buildGgufMetadata } = await import('../formats/hf/gguf-metadata.ts');
  const { GgufWriter } = await import('../formats/gguf/writer.ts');
  const config = await readHfConfig(dir);
  const arch = archFor(config);
  await withModel(dir, async (m) => {
    const hf = [...m.tensors.values()].map((t) => ({ name: t.name, shape: t.shape })).sort((a, b) => (a.name < b.name ? -1 : 1));
    const { tensors } = mapTensors(arch, config, hf);
    const { kvs } = await buildGgufMetadata(dir, config, arch, { fileTypeId: 0 });
    const w = await GgufWriter.open(out);
    for (const { key, ...value } of kvs) w.addKv(key, value);
    for (const t of tensors) w.addTensor(t.ggufName, t.ne, GgmlTypeId.F32);
    await w.writeHeader();
    for (const t of tensors) {
      let v = toFloat32(m.tensors.get(t.hfName)!.dtype, await m.readTensor(t.hfName));
      if (t.permute) v = permuteRowsQK(v, t.hfShape[0], t.hfShape[1] ?? 1, t.permute.heads);
      await w.writeTensorData(t.ggufName, new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    }
    await w.finish();
  });
}

test('converted samples load in llama.cpp; its Qwen2 tokenization equals our BPE', async (t) => {
  if (llamaCppUnavailable) return t.skip(llamaCppUnavailable);
  const { getCpuLlama } = await import('./support/llama-run.ts');
  const { LlamaCompletion } = await import('node-llama-cpp');
  const llama = await getCpuLlama();
  const root = await ensureSamples();
  const text = "Hello world! The children read 42 books, don't they?\n\n  Naïve café 🚀";
  for (const name of [SAMPLE.qwen2.bf16, SAMPLE.llama.sharded, SAMPLE.mistral.f16]) {
    const out = path.join(tmp, `${name}.gguf`);
    await convertToF32Gguf(path.join(root, name), out);
    const model = await llama.loadModel({ modelPath: out });
    try {
      assert.equal(model.fileInfo.metadata.general.architecture, name.includes('qwen2') ? 'qwen2' : 'llama');
      const ids = [...model.tokenize(text)];
      assert.ok(ids.every((id) => id >= 0 && id < 512), name);
      assert.equal(model.detokenize(model.tokenize(text)), text, `${name} detokenizes back`);
      if (name === SAMPLE.qwen2.bf16) {
        assert.deepEqual(ids, encodeByteLevelBpe(qwen2Bpe(), text));
        assert.deepEqual([...model.tokenize('<|im_start|>user', true)], [510, ...encodeByteLevelBpe(qwen2Bpe(), 'user')]);
      }
      const context = await model.createContext({ contextSize: 64, threads: 1 });
      try {
        const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
        await completion.generateCompletion('Once upon a time', { maxTokens: 4, temperature: 0 });
      } finally {
        await context.dispose();
      }
    } finally {
      await model.dispose();
    }
  }
});
