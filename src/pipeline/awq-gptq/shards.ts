/**
 * Splitting the declared output tensors into safetensors shards the way transformers'
 * `save_pretrained` names them: one `model.safetensors`, or `model-0000i-of-0000N.safetensors`
 * plus `model.safetensors.index.json` when the total exceeds the shard size. A packed layer's
 * parts stay in one shard.
 */
import type { TensorDecl } from '../../../formats/safetensors/writer.ts';
import { dtypeSize } from '../../../formats/safetensors/dtypes.ts';
import { elementCount } from '../../../formats/safetensors/header.ts';

export interface Shard { file: string; decls: TensorDecl[]; bytes: number }

export const declBytes = (d: TensorDecl) => elementCount(d.shape) * dtypeSize(d.dtype);

/** `units`: groups of declarations that must share a shard, in output order. */
export function planShards(units: TensorDecl[][], maxShardBytes: number): Shard[] {
  const shards: { decls: TensorDecl[]; bytes: number }[] = [];
  let cur = { decls: [] as TensorDecl[], bytes: 0 };
  for (const unit of units) {
    const size = unit.reduce((s, d) => s + declBytes(d), 0);
    if (cur.decls.length && cur.bytes + size > maxShardBytes) {
      shards.push(cur);
      cur = { decls: [], bytes: 0 };
    }
    cur.decls.push(...unit);
    cur.bytes += size;
  }
  if (cur.decls.length) shards.push(cur);
  const n = shards.length;
  const pad = (i: number) => String(i).padStart(5, '0');
  return shards.map((s, i) => ({ ...s, file: n === 1 ? 'model.safetensors' : `model-${pad(i + 1)}-of-${pad(n)}.safetensors` }));
}
