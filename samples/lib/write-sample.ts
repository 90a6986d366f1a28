/**
 * Writes one sample model folder: config, generation config, tokenizer files and the weights in
 * one dtype, as a single model.safetensors or as two shards with model.safetensors.index.json.
 */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SafetensorsWriter } from '../../formats/safetensors/writer.ts';
import { encodeSafetensorsIndex, INDEX_FILE_NAME } from '../../formats/safetensors/index-json.ts';
import type { SampleArchitecture, SampleTensor } from './architectures.ts';
import { encodeFloats } from './half.ts';
import { qwen2TokenizerConfig, qwen2TokenizerJson } from './qwen2-tokenizer.ts';

export type SampleDtype = 'F32' | 'F16' | 'BF16';

export interface SampleSpec {
  name: string;
  arch: SampleArchitecture;
  dtype: SampleDtype;
  shards: 1 | 2;
}

const TORCH_DTYPE: Record<SampleDtype, string> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };

const json = (value: unknown) => JSON.stringify(value, null, 2) + '\n';

/** Byte-wise name order, the order the Python safetensors library lays same-dtype tensors out in. */
const byName = (a: SampleTensor, b: SampleTensor) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export async function writeSample(dir: string, spec: SampleSpec, values: Map<string, Float32Array>, storiesDir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const { arch } = spec;
  await writeFile(join(dir, 'config.json'), json({ ...arch.config, torch_dtype: TORCH_DTYPE[spec.dtype] }));
  await writeFile(join(dir, 'generation_config.json'), json(arch.generationConfig));
  if (arch.tokenizer === 'sentencepiece') {
    for (const f of ['tokenizer.json', 'tokenizer.model', 'tokenizer_config.json']) await copyFile(join(storiesDir, f), join(dir, f));
  } else {
    await writeFile(join(dir, 'tokenizer.json'), json(qwen2TokenizerJson()));
    await writeFile(join(dir, 'tokenizer_config.json'), json(qwen2TokenizerConfig()));
  }

  if (spec.shards === 1) {
    await writeSafetensors(join(dir, 'model.safetensors'), [...arch.tensors].sort(byName), spec.dtype, values);
    return;
  }
  // Two shards the way HF splits a state dict: embeddings and the first block, then the rest.
  const first = arch.tensors.filter((t) => t.name === 'model.embed_tokens.weight' || t.layer === 0);
  const second = arch.tensors.filter((t) => !first.includes(t));
  const parts = [first, second].map((tensors, i) => ({ file: `model-0000${i + 1}-of-00002.safetensors`, tensors: tensors.sort(byName) }));
  const weightMap = new Map<string, string>();
  let total = 0;
  for (const part of parts) {
    total += await writeSafetensors(join(dir, part.file), part.tensors, spec.dtype, values);
    for (const t of part.tensors) weightMap.set(t.name, part.file);
  }
  await writeFile(join(dir, INDEX_FILE_NAME), encodeSafetensorsIndex(weightMap, total));
}

/** Write tensors in the given order; returns the number of data bytes. */
async function writeSafetensors(path: string, tensors: SampleTensor[], dtype: SampleDtype, values: Map<string, Float32Array>): Promise<number> {
  const w = await SafetensorsWriter.open(path, tensors.map((t) => ({ name: t.name, dtype, shape: t.shape })), { format: 'pt' });
  let bytes = 0;
  try {
    for (const t of tensors) {
      const data = encodeFloats(values.get(t.name)!, dtype);
      await w.writeTensorData(t.name, data);
      bytes += data.length;
    }
    await w.finish();
  } catch (err) {
    await w.abort();
    throw err;
  }
  return bytes;
}
