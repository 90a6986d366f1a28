/**
 * Issue 16: Qwen3, Phi-3, Mixtral, Gemma 2 and Gemma 3, each a row of the architecture table.
 * For every family fixture (samples/families/<family>/, built with llama.cpp's own
 * convert_hf_to_gguf.py at the pinned commit): our weight generator reproduces the source tensors,
 * our f32 and bf16 outputs equal the expected manifests key for key and tensor for tensor and whole
 * file; q4_K_M and q5_K_M equal llama_model_quantize of our f32 file; and llama.cpp loads the output
 * and generates exactly what it generated from the converter's own file (llama-cpp.json).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertModel } from '../src/pipeline/convert.ts';
import { ensureFamily, FAMILIES, readFixtureJson, type Family } from '../samples/lib/families.ts';
import { familyTensorBytes, familyTensors } from '../samples/lib/family-weights.ts';
import { ggufManifest, type Manifest } from './support/gguf-manifest.ts';
import { loadLlamaCpp, llamaCppUnavailable } from './support/llama-cpp.ts';
import { loadModel } from './support/llama-run.ts';
import { runJob } from './support/run-job.ts';

let out: string;
const dirs = new Map<Family, string>();
before(async () => {
  out = mkdtempSync(join(tmpdir(), 'gguf-forge-families-'));
  for (const f of FAMILIES) dirs.set(f, await ensureFamily(f));
});
after(() => rmSync(out, { recursive: true, force: true }));

/** Each output is converted once per run (later tests reuse it); the promise is the file's path. */
const outputs = new Map<string, Promise<string>>();
function convert(family: Family, fileType: string): Promise<string> {
  const path = join(out, `${family}-${fileType}.gguf`);
  let p = outputs.get(path);
  if (!p) {
    p = runJob(convertModel({ source: dirs.get(family)!, fileType, output: path, threads: 2, validate: false })).then(() => path);
    outputs.set(path, p);
  }
  return p;
}

test('our weight recipe reproduces every fixture tensor (source-tensors.json) before any conversion', () => {
  for (const f of FAMILIES) {
    const config = readFixtureJson(f, 'config.json');
    const got = familyTensors(config).map((t) => [t.name, 'BF16', t.shape, createHash('sha256').update(familyTensorBytes(t, config.model_type)).digest('hex')]);
    assert.deepEqual(got, readFixtureJson(f, 'source-tensors.json'), f);
  }
});

function assertManifest(got: Manifest, want: Manifest, what: string): void {
  assert.deepEqual(got.kv.map((k) => k[0]), want.kv.map((k) => k[0]), `${what}: KV keys in file order`);
  for (let i = 0; i < want.kv.length; i++) assert.deepEqual(got.kv[i], want.kv[i], `${what}: KV ${want.kv[i]![0]}`);
  assert.deepEqual(got.tensors.map((t) => t[0]), want.tensors.map((t) => t[0]), `${what}: tensor names in file order`);
  for (let i = 0; i < want.tensors.length; i++) assert.deepEqual(got.tensors[i], want.tensors[i], `${what}: tensor ${want.tensors[i]![0]}`);
  assert.deepEqual(got.header, want.header, `${what}: header`);
  assert.equal(got.file_bytes, want.file_bytes, `${what}: file size`);
  assert.equal(got.file_sha256, want.file_sha256, `${what}: whole-file sha256`);
}

for (const family of FAMILIES) {
  test(`${family}: f32 and bf16 equal llama.cpp's convert_hf_to_gguf output key for key, tensor for tensor, whole file`, async () => {
    for (const t of ['f32', 'bf16']) {
      await convert(family, t);
      assertManifest(ggufManifest(join(out, `${family}-${t}.gguf`)), readFixtureJson(family, `expected-${t}.json`), `${family} ${t}`);
    }
  });
}

for (const family of FAMILIES) {
  test(`${family}: q4_K_M and q5_K_M equal llama_model_quantize of our f32 file, whole file`, { skip: llamaCppUnavailable ?? false }, async () => {
    const llama = await loadLlamaCpp();
    const f32 = join(out, `${family}-f32.gguf`);
    await convert(family, 'f32');
    for (const [t, ftype] of [['q4_K_M', 15], ['q5_K_M', 17]] as const) {
      await convert(family, t);
      const ref = join(out, `${family}-ref-${t}.gguf`);
      assert.equal(llama.modelQuantize(f32, ref, ftype, { nthread: 2 }), 0, `${family}: llama_model_quantize ${t}`);
      assert.ok(readFileSync(join(out, `${family}-${t}.gguf`)).equals(readFileSync(ref)), `${family} ${t} differs from llama_model_quantize`);
    }
  });
}

/** Greedy next tokens after `ids`, evaluated in llama.cpp (node-llama-cpp, CPU). */
async function greedyAfter(path: string, ids: number[], n: number): Promise<number[]> {
  const model = await loadModel(path);
  const context = await model.createContext({ contextSize: 64, sequences: 1, threads: 1 });
  try {
    const got: number[] = [];
    for await (const tok of context.getSequence().evaluate(ids as never, { temperature: 0 })) {
      got.push(tok as number);
      if (got.length === n) break;
    }
    return got;
  } finally {
    await context.dispose();
    await model.dispose();
  }
}

for (const family of FAMILIES) {
  test(`${family}: llama.cpp loads our f32 and q5_K_M files and generates (f32: the same tokens as from the converter's file)`, { skip: llamaCppUnavailable ?? false }, async () => {
    const ref = readFixtureJson(family, 'llama-cpp.json');
    await convert(family, 'f32');
    // Our f32 file is byte-identical to the converter's, so llama.cpp continues it exactly as it did that one.
    assert.deepEqual(await greedyAfter(join(out, `${family}-f32.gguf`), ref.input_ids, 8), ref.greedy_continuation_8, `${family} f32 greedy continuation`);
    await convert(family, 'q5_K_M');
    // Quantized logits differ, so only that it generates: tokens of the vocabulary until 8 or an end-of-generation token.
    const q = await greedyAfter(join(out, `${family}-q5_K_M.gguf`), ref.input_ids, 8);
    const nVocab = readFixtureJson(family, 'config.json').vocab_size;
    assert.ok(q.length >= 1 && q.every((id) => id >= 0 && id < nVocab), `${family} q5_K_M generates: ${q}`);
  });
}
