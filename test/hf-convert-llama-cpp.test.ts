/**
 * End to end through llama.cpp: our metadata + tensor map + q/k permutation, written as an F32 GGUF
 * with the project's writer. For stories260K the file must be byte-identical to convert_hf_to_gguf.py's;
 * for the generated Qwen2 and Mistral samples llama.cpp must load it and tokenize exactly as our JS
 * tokenizer does (which is what the qwen2 pre-tokenizer choice claims).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GgufWriter } from '../formats/gguf/writer.ts';
import { openSafetensorsModel } from '../formats/safetensors/model.ts';
import { archFor } from '../formats/hf/architectures.ts';
import { readHfConfig } from '../formats/hf/config.ts';
import { buildGgufMetadata } from '../formats/hf/gguf-metadata.ts';
import { countParameters } from '../formats/hf/size-label.ts';
import { mapTensors, permuteRowsQK, sortLikeConvert } from '../formats/hf/tensor-map.ts';
import { HfTokenizer } from '../formats/hf/tokenizer/hf-tokenizer.ts';
import { ensureSamples, SAMPLE } from '../samples/lib/index.ts';
import { llamaCppUnavailable } from './support/llama-cpp.ts';
import { loadModel } from './support/llama-run.ts';

const GGML_F32 = 0;

/** Convert an F32 HF folder to an F32 GGUF the way convert --outtype f32 does. */
async function convertF32(dir: string, out: string): Promise<string[]> {
  const config = await readHfConfig(dir);
  const arch = archFor(config);
  const st = await openSafetensorsModel(dir);
  try {
    const hf = sortLikeConvert([...st.tensors.values()], st.files);
    const { tensors, generated } = mapTensors(arch, config, hf);
    const parameterCount = countParameters([...tensors.map((t) => t.hfShape), ...generated.map((g) => g.ne)]);
    const { kvs, warnings } = await buildGgufMetadata(dir, config, arch, { fileTypeId: 0, parameterCount });
    const w = await GgufWriter.open(out);
    for (const kv of kvs) w.addKv(kv.key, kv);
    for (const g of generated) w.addTensor(g.ggufName, g.ne, GGML_F32);
    for (const t of tensors) {
      assert.equal(st.tensors.get(t.hfName)!.dtype, 'F32');
      w.addTensor(t.ggufName, t.ne, GGML_F32);
    }
    await w.writeHeader();
    for (const g of generated) await w.writeTensorData(g.ggufName, new Uint8Array(g.data.buffer));
    for (const t of tensors) {
      const bytes = await st.readTensor(t.hfName);
      let values = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      if (t.permute) values = permuteRowsQK(values, t.hfShape[0], values.length / t.hfShape[0], t.permute.heads);
      await w.writeTensorData(t.ggufName, new Uint8Array(values.buffer));
    }
    await w.finish();
    return warnings.map((x) => x.code);
  } finally {
    await st.close();
  }
}

const sha = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');

test('stories260K converted with our metadata and tensor map is byte-identical to convert_hf_to_gguf.py --outtype f32', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-conv-'));
  const out = path.join(tmp, 'stories260K.gguf');
  assert.deepEqual(await convertF32('samples/stories260K', out), []);
  assert.equal(fs.statSync(out).size, fs.statSync('samples/stories260K/reference-convert-f32.gguf').size);
  assert.equal(sha(out), sha('samples/stories260K/reference-convert-f32.gguf'));
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('generated Qwen2 and Mistral samples load in llama.cpp, whose tokenizer agrees with our JS tokenizer', async (t) => {
  if (llamaCppUnavailable) { t.skip(llamaCppUnavailable); return; }
  const root = await ensureSamples();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-conv-'));
  const texts = ['Once upon a time, there was a little girl.', "It's 12345 o'clock!\n\n  Done...", 'The cat sat on the mat. THE END'];
  try {
    for (const name of [SAMPLE.qwen2.f32, SAMPLE.mistral.f32, SAMPLE.llama.f32]) {
      const dir = path.join(root, name);
      const out = path.join(tmp, `${name}.gguf`);
      const warnings = await convertF32(dir, out);
      const model = await loadModel(out);
      try {
        if (name === SAMPLE.qwen2.f32) {
          assert.deepEqual(warnings, ['PRE_TOKENIZER_BY_DEFINITION']);
          const tok = new HfTokenizer(JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')), 'tokenizer.json');
          for (const text of texts) assert.deepEqual([...model.tokenize(text)], tok.encode(text, { addSpecialTokens: false }), `${name}: ${JSON.stringify(text)}`);
        } else {
          assert.ok(model.tokenize('Once upon a time').length > 0);
        }
      } finally {
        await model.dispose();
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
