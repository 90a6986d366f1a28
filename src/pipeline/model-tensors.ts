/**
 * A model folder's tensors as the convert pipeline sees them, whatever the checkpoint holds:
 * plain safetensors (F32/F16/BF16 widened exactly) or an AWQ/GPTQ checkpoint (dequantized).
 * Listed in convert_hf_to_gguf's processing order: shard files in sorted order, names sorted
 * byte-wise within a file.
 */
import { openSafetensorsModel } from '../../formats/safetensors/model.ts';
import { toFloat32, widenFloatsInto } from '../../formats/safetensors/dtypes.ts';
import { isQuantizedFolder } from '../../formats/awq-gptq/checkpoint.ts';
import { openDequantizedModel } from '../../formats/awq-gptq/dequantized-model.ts';
import type { ReadRowsF32 } from './hf-tensor-source.ts';
import { ReusedBytes } from './reused-bytes.ts';

export interface ModelTensors {
  /** `readRowsF32` counts GGUF rows (the last HF dim), so a 1-D tensor is one row. */
  tensors: { name: string; shape: number[]; dtype: string }[];
  /** Set when the source is an AWQ/GPTQ checkpoint (e.g. `awq-int4-g128`). */
  quantizedSource?: string;
  readRowsF32: ReadRowsF32;
  close(): Promise<void>;
}

const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export async function openModelTensors(dir: string): Promise<ModelTensors> {
  if (await isQuantizedFolder(dir)) {
    const m = await openDequantizedModel(dir);
    const q = m.tensors.find((t) => t.quantized)?.sourceType;
    return {
      tensors: [...m.tensors].sort((a, b) => byteOrder(a.name, b.name)).map((t) => ({ name: t.name, shape: t.shape, dtype: t.sourceType })),
      quantizedSource: q,
      readRowsF32: (name, rowStart, rowCount) => {
        const t = m.tensors.find((x) => x.name === name)!;
        return t.shape.length === 1 ? m.readRows(name, 0, t.shape[0]!) : m.readRows(name, rowStart, rowCount);
      },
      close: () => m.close(),
    };
  }
  const m = await openSafetensorsModel(dir);
  const raw = new ReusedBytes();
  const fileRank = new Map(m.files.map((f, i) => [f, i]));
  const tensors = [...m.tensors.values()]
    .sort((a, b) => fileRank.get(a.file)! - fileRank.get(b.file)! || byteOrder(a.name, b.name))
    .map((t) => ({ name: t.name, shape: t.shape, dtype: t.dtype as string }));
  return {
    tensors,
    readRowsF32: async (name, rowStart, rowCount, into) => {
      const t = m.tensors.get(name)!;
      // A GGUF row is the last HF dim; a 1-D tensor is one row, while readRows counts along dim 0.
      const [lo, n] = t.shape.length === 1 ? [0, t.shape[0]!] : [rowStart, rowCount];
      if (t.shape.length === 1 && (rowStart !== 0 || rowCount !== 1)) throw new RangeError(`${name}: a 1-D tensor has one row`);
      const count = n * t.shape.slice(1).reduce((a, b) => a * b, 1);
      if (!into || into.length < count || !(t.dtype === 'F32' || t.dtype === 'BF16' || t.dtype === 'F16')) {
        return toFloat32(t.dtype, await m.readRows(name, lo, n));
      }
      const out = into.subarray(0, count);
      // F32 goes straight from the file into the caller's buffer; 16-bit floats through one reused buffer.
      if (t.dtype === 'F32') await m.readRows(name, lo, n, new Uint8Array(out.buffer, out.byteOffset, count * 4));
      else await raw.with(count * 2, async (buf) => widenFloatsInto(t.dtype as 'BF16' | 'F16', await m.readRows(name, lo, n, buf), out));
      return out;
    },
    close: () => m.close(),
  };
}
