/**
 * `model.safetensors.index.json`, the map from tensor name to shard file that Hugging Face writes
 * for sharded checkpoints: `{"metadata": {"total_size": N}, "weight_map": {"name": "model-00001-of-00002.safetensors"}}`.
 */
import { readFile } from 'node:fs/promises';
import { FormatError, fromFsError } from '../errors.ts';

export const INDEX_FILE_NAME = 'model.safetensors.index.json';

export interface SafetensorsIndex {
  metadata: Record<string, unknown>;
  weightMap: Map<string, string>;
  /** Distinct shard file names, sorted (the order convert_hf_to_gguf.py visits them). */
  shards: string[];
}

export async function readSafetensorsIndex(path: string): Promise<SafetensorsIndex> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw fromFsError(err, path, 'read');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new FormatError('SAFETENSORS_INDEX', `not valid JSON: ${(err as Error).message}`, { file: path }, { cause: err });
  }
  const root = parsed as Record<string, unknown> | null;
  const map = root?.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    throw new FormatError('SAFETENSORS_INDEX', 'missing "weight_map" object', { file: path });
  }
  const weightMap = new Map<string, string>();
  for (const [name, shard] of Object.entries(map)) {
    // A shard must be a plain file name in the same folder: no paths that could escape it.
    if (typeof shard !== 'string' || shard === '' || /[\\/]/.test(shard) || shard === '.' || shard === '..') {
      throw new FormatError('SAFETENSORS_INDEX', `tensor '${name}' maps to ${JSON.stringify(shard)}, not a file name`, { file: path, tensor: name });
    }
    weightMap.set(name, shard);
  }
  const metadata = typeof root?.metadata === 'object' && root.metadata !== null ? (root.metadata as Record<string, unknown>) : {};
  const shards = [...new Set(weightMap.values())].sort();
  return { metadata, weightMap, shards };
}

/** The index.json text for shards, in Hugging Face's layout (keys sorted, 2-space indent). */
export function encodeSafetensorsIndex(weightMap: ReadonlyMap<string, string>, totalSize: number): string {
  const sorted = Object.fromEntries([...weightMap].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return JSON.stringify({ metadata: { total_size: totalSize }, weight_map: sorted }, null, 2) + '\n';
}
