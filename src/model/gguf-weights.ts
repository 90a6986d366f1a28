/** A GGUF file's weights for the forward: tensors read by offset on demand, kept in their own type. */
import { openSource } from '../../formats/io/byte-source.ts';
import { readGguf, readTensorBytes, tensorRows, type GgufTensorInfo } from '../../formats/gguf/reader.ts';
import { FormatError } from '../../formats/errors.ts';
import { canDequantize, dequantize } from '../../kernels/quant-table.ts';
import { ggmlType, rowSize } from '../../kernels/ggml-types.ts';
import { fileType } from '../../kernels/file-types.ts';
import { hparamsFromKvs, kvValue } from './hparams.ts';
import type { ModelWeights, WeightMatrix } from './weights.ts';

export async function openGgufWeights(path: string): Promise<ModelWeights> {
  const file = await readGguf(path);
  const byName = new Map(file.tensors.map((t) => [t.name, t]));
  const hparams = hparamsFromKvs(file.kvs, path, byName.get('token_embd.weight')?.ne[1]);
  for (const t of file.tensors) {
    if (!canDequantize(t.type)) throw new FormatError('UNSUPPORTED_TYPE', `${path}: tensor '${t.name}' has type ${ggmlType(t.type)?.name ?? t.type}, which the forward cannot read`, { file: path, tensor: t.name });
  }
  const src = await openSource(path);
  const need = (name: string): GgufTensorInfo => {
    const t = byName.get(name);
    if (!t) throw new FormatError('MISSING_TENSOR', `${path}: tensor '${name}' is missing`, { file: path, tensor: name });
    return t;
  };
  const ft = kvValue(file.kvs, 'general.file_type');
  return {
    path,
    kind: 'gguf',
    kvs: file.kvs,
    hparams,
    storage: `GGUF ${typeof ft === 'number' ? fileType(ft)?.name ?? `file type ${ft}` : ''}`.trim(),
    has: (name) => byName.has(name),
    shape: (name) => byName.get(name)?.ne,
    loadedBytes: (name) => byName.get(name)?.nbytes ?? 0,
    async matrix(name): Promise<WeightMatrix> {
      const t = need(name);
      const data = await readTensorBytes(src, file, t);
      return { type: t.type, rows: tensorRows(t), cols: t.ne[0]!, data };
    },
    async vector(name) {
      const t = need(name);
      return dequantize(t.type, await readTensorBytes(src, file, t), t.ne.reduce((a, b) => a * b, 1));
    },
    async gatherRows(name, ids) {
      const t = need(name);
      const cols = t.ne[0]!;
      const out = new Float32Array(ids.length * cols);
      const rb = rowSize(ggmlType(t.type)!, cols);
      const buf = new Uint8Array(rb);
      const cache = new Map<number, Float32Array>();
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i]!;
        let row = cache.get(id);
        if (!row) {
          if (id < 0 || id >= tensorRows(t)) throw new FormatError('BAD_TOKEN', `${path}: token id ${id} is outside the vocabulary of ${tensorRows(t)}`, { file: path, tensor: name });
          row = dequantize(t.type, await readTensorBytes(src, file, t, id, 1, buf), cols);
          cache.set(id, row);
        }
        out.set(row, i * cols);
      }
      return out;
    },
    close: () => src.close(),
  };
}
