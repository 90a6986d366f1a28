/**
 * Issue 4 on the generated samples (dimensions multiples of 256, so K-quants apply):
 * `convert --type T` equals llama_model_quantize of our f32 (or, with --via f16, our f16) file;
 * sharded input equals single-file input; qwen2 (biases, tied embeddings) and mistral convert and
 * run in llama.cpp.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertModel } from '../src/pipeline/convert.ts';
import { readGguf, readTensorBytes } from '../formats/gguf/reader.ts';
import { openFileSource } from '../formats/io/byte-source.ts';
import { ensureSamples, SAMPLE } from '../samples/lib/index.ts';
import { loadLlamaCpp, llamaCppUnavailable } from './support/llama-cpp.ts';
import { loadModel, greedyCompletion } from './support/llama-run.ts';
import { runJob } from './support/run-job.ts';

let root: string;
let dir: string;
const convert = (sample: string, fileType: string, name: string, extra: { viaF16?: boolean } = {}) =>
  runJob(convertModel({ source: join(root, sample), fileType, output: join(dir, name), threads: 2, ...extra }));

before(async () => {
  root = await ensureSamples();
  dir = mkdtempSync(join(tmpdir(), 'gguf-forge-samples-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('bf16 llama (256-wide): q8_0, q4_0, q5_K_M equal llama_model_quantize of our f32, whole file', { skip: llamaCppUnavailable ?? false }, async () => {
  const llama = await loadLlamaCpp();
  await convert(SAMPLE.llama.bf16, 'f32', 'llama-f32.gguf');
  for (const [t, ftype] of [['q8_0', 7], ['q4_0', 2], ['q5_K_M', 17], ['q4_K_M', 15]] as const) {
    const { result } = await convert(SAMPLE.llama.bf16, t, `llama-${t}.gguf`);
    assert.equal(result.fallbacks, 0, `${t}: no fallbacks expected on 256-wide tensors`);
    const ref = join(dir, `llama-ref-${t}.gguf`);
    assert.equal(llama.modelQuantize(join(dir, 'llama-f32.gguf'), ref, ftype, { nthread: 2 }), 0);
    assert.ok(readFileSync(join(dir, `llama-${t}.gguf`)).equals(readFileSync(ref)), `${t} differs`);
  }
  const q5 = await readGguf(join(dir, 'llama-q5_K_M.gguf'));
  const types = new Set(q5.tensors.filter((t) => t.ne.length === 2).map((t) => t.type));
  assert.deepEqual([...types].sort(), [13, 14], 'q5_K_M mixes Q5_K and Q6_K');
});

test('--via f16 equals convert to f16 then llama_model_quantize', { skip: llamaCppUnavailable ?? false }, async () => {
  const llama = await loadLlamaCpp();
  await convert(SAMPLE.llama.bf16, 'f16', 'llama-f16.gguf');
  for (const [t, ftype] of [['q4_0', 2], ['q5_K_M', 17]] as const) {
    await convert(SAMPLE.llama.bf16, t, `llama-via-${t}.gguf`, { viaF16: true });
    const ref = join(dir, `llama-ref-via-${t}.gguf`);
    assert.equal(llama.modelQuantize(join(dir, 'llama-f16.gguf'), ref, ftype, { nthread: 2 }), 0);
    assert.ok(readFileSync(join(dir, `llama-via-${t}.gguf`)).equals(readFileSync(ref)), `--via f16 ${t} differs`);
  }
});

test('a 2-shard checkpoint converts to the same tensors as the single file', async () => {
  await convert(SAMPLE.llama.bf16, 'q8_0', 'single.gguf');
  await convert(SAMPLE.llama.sharded, 'q8_0', 'sharded.gguf');
  const [a, b] = await Promise.all([readGguf(join(dir, 'single.gguf')), readGguf(join(dir, 'sharded.gguf'))]);
  assert.deepEqual(a.tensors, b.tensors);
  const [sa, sb] = await Promise.all([openFileSource(join(dir, 'single.gguf')), openFileSource(join(dir, 'sharded.gguf'))]);
  try {
    for (const t of a.tensors) assert.ok(Buffer.from(await readTensorBytes(sa, a, t)).equals(Buffer.from(await readTensorBytes(sb, b, t))), t.name);
  } finally {
    await Promise.all([sa.close(), sb.close()]);
  }
});

test('qwen2 (q/k/v biases, tied embeddings, BPE tokenizer) and mistral convert and run in llama.cpp', { skip: llamaCppUnavailable ?? false }, async () => {
  for (const [sample, arch] of [[SAMPLE.qwen2.bf16, 'qwen2'], [SAMPLE.mistral.f16, 'llama']] as const) {
    const { result } = await convert(sample, 'q5_K_M', `${sample}.gguf`);
    const f = await readGguf(join(dir, `${sample}.gguf`));
    assert.equal(f.kvs.find((kv) => kv.key === 'general.architecture')?.value, arch);
    if (arch === 'qwen2') {
      assert.ok(f.tensors.some((t) => t.name === 'blk.0.attn_q.bias'));
      assert.ok(!f.tensors.some((t) => t.name === 'output.weight'));
      assert.equal(f.tensors.find((t) => t.name === 'token_embd.weight')?.type, 14, 'tied token_embd takes the output rule (Q6_K)');
    }
    assert.equal(result.tensors, f.tensors.length);
    const model = await loadModel(join(dir, `${sample}.gguf`));
    try {
      assert.equal(typeof (await greedyCompletion(model, 'Hello', 8)), 'string');
    } finally {
      await model.dispose();
    }
  }
});

test('the validation report covers every quantized tensor, per layer and per kind', async () => {
  const { result, events } = await convert(SAMPLE.llama.bf16, 'q4_K_M', 'report.gguf');
  const report = result.report as { tensors: unknown[]; byLayer: Record<string, unknown>; byKind: Record<string, unknown>; worst: unknown[]; anomalies: unknown[] };
  const quantized = events.filter((e) => e.type === 'tensor' && e.state === 'done' && e.metrics);
  assert.equal(report.tensors.length, quantized.length);
  assert.deepEqual(Object.keys(report.byLayer).sort(), ['0', '1']);
  for (const k of ['attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_gate', 'ffn_up', 'ffn_down']) assert.ok(k in report.byKind, k);
  assert.equal(report.worst.length, 5);
  assert.deepEqual(report.anomalies, []);
});
