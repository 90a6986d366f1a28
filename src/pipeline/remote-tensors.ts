/**
 * The tensor list of a Hub repo whose weights are not downloaded: each shard's safetensors header
 * read with HTTP range requests (the same reads `inspect hf:` makes), in the order the converter
 * processes them (shards in order, names byte-wise within a shard), as model-tensors.ts lists a
 * local folder. Only headers travel: a few kB per shard, never the weights.
 */
import { join } from 'node:path';
import { readSafetensorsHeaderFrom } from '../../formats/safetensors/reader.ts';
import { INDEX_FILE_NAME, readSafetensorsIndex } from '../../formats/safetensors/index-json.ts';
import { openHubFile, type HubFileOptions } from '../hub/remote-file.ts';
import { byteOrder, type TensorListing } from './model-tensors.ts';

export async function remoteModelTensors(dir: string, hub: { repo: string; commit: string }, weights: string[], opts: HubFileOptions): Promise<TensorListing> {
  const index = weights.length && (await readSafetensorsIndex(join(dir, INDEX_FILE_NAME)).catch(() => null));
  const shards = index ? index.shards : weights.filter((f) => f.startsWith('model') && f.endsWith('.safetensors')).sort();
  const perShard = await Promise.all(shards.map(async (path) => {
    const src = await openHubFile({ repo: hub.repo, revision: hub.commit, path }, opts);
    try {
      const header = await readSafetensorsHeaderFrom(src);
      return [...header.tensors.values()].map((t) => ({ name: t.name, shape: t.shape, dtype: t.dtype as string })).sort((a, b) => byteOrder(a.name, b.name));
    } finally {
      await src.close();
    }
  }));
  return { tensors: perShard.flat() };
}
