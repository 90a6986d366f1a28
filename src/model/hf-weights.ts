/**
 * An HF folder's weights (safetensors F32/F16/BF16, or an AWQ/GPTQ checkpoint dequantized) seen
 * through convert's own mapping: GGUF names, llama's q/k row permutation, generated rope_freqs,
 * and the GGUF metadata convert would write. The forward then runs on them exactly as on a GGUF.
 */
import { readHfConfig } from '../../formats/hf/config.ts';
import { archFor } from '../../formats/hf/architectures.ts';
import { mapTensors, type GeneratedTensor, type MappedTensor } from '../../formats/hf/tensor-map.ts';
import { buildGgufMetadata } from '../../formats/hf/gguf-metadata.ts';
import { FormatError } from '../../formats/errors.ts';
import { GgmlTypeId as T } from '../../kernels/ggml-types.ts';
import { openModelTensors } from '../pipeline/model-tensors.ts';
import { hfRowReader } from '../pipeline/hf-tensor-source.ts';
import { hparamsFromKvs } from './hparams.ts';
import type { ModelWeights } from './weights.ts';

export async function openHfWeights(dir: string): Promise<ModelWeights> {
  const config = await readHfConfig(dir);
  const arch = archFor(config);
  const model = await openModelTensors(dir);
  try {
    const { tensors, generated } = mapTensors(arch, config, model.tensors);
    const { kvs } = await buildGgufMetadata(dir, config, arch, { fileTypeId: 0 });
    const mapped = new Map<string, MappedTensor>(tensors.map((m) => [m.ggufName, m]));
    const gen = new Map<string, GeneratedTensor>(generated.map((g) => [g.ggufName, g]));
    const ne = (name: string) => mapped.get(name)?.ne ?? gen.get(name)?.ne;
    const elements = (name: string) => (ne(name) ?? [0]).reduce((a, b) => a * b, 1);
    const need = (name: string): MappedTensor | GeneratedTensor => {
      const t = mapped.get(name) ?? gen.get(name);
      if (!t) throw new FormatError('MISSING_TENSOR', `${dir}: the checkpoint has no tensor for '${name}'`, { file: dir, tensor: name });
      return t;
    };
    /** Rows [r, r + n) of a tensor as float32, in GGUF row order (q/k permuted as convert does). */
    const readRows = async (name: string, r: number, n: number): Promise<Float32Array> => {
      const t = need(name);
      if ('data' in t) return t.data.subarray(r * t.ne[0]!, (r + n) * t.ne[0]!);
      const nRows = t.ne.slice(1).reduce((a, b) => a * b, 1);
      return hfRowReader(model.readRowsF32, { hfName: t.hfName, rowLen: t.ne[0]!, nRows, permuteHeads: t.permute?.heads })(r, n);
    };
    const dtypes = [...new Set(model.tensors.map((t) => t.dtype))].join('/');
    return {
      path: dir,
      kind: model.quantizedSource ? 'awq-gptq' : 'hf',
      kvs,
      hparams: hparamsFromKvs(kvs, dir),
      storage: model.quantizedSource ?? `${dtypes} safetensors`,
      has: (name) => mapped.has(name) || gen.has(name),
      shape: ne,
      loadedBytes: (name) => 4 * elements(name),
      async matrix(name) {
        const t = need(name);
        const rows = t.ne.slice(1).reduce((a, b) => a * b, 1);
        const f = await readRows(name, 0, rows);
        return { type: T.F32, rows, cols: t.ne[0]!, data: new Uint8Array(f.buffer, f.byteOffset, f.byteLength) };
      },
      vector: async (name) => readRows(name, 0, 1),
      async gatherRows(name, ids) {
        const cols = need(name).ne[0]!;
        const out = new Float32Array(ids.length * cols);
        const cache = new Map<number, Float32Array>();
        for (let i = 0; i < ids.length; i++) {
          const id = ids[i]!;
          let row = cache.get(id);
          if (!row) cache.set(id, (row = (await readRows(name, id, 1)).slice()));
          out.set(row, i * cols);
        }
        return out;
      },
      close: () => model.close(),
    };
  } catch (err) {
    await model.close();
    throw err;
  }
}
