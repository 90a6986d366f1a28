/**
 * Models already in the Hugging Face cache (ours and Python's share it): each
 * `models--ORG--NAME/snapshots/<sha>` folder with a config.json is a local model folder the
 * source screen can offer without any network.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { hubCacheDir } from '../../hub/env.ts';

export interface CachedModel {
  repo: string;
  /** The snapshot folder (a model folder). */
  dir: string;
}

export async function listCachedModels(cacheDir = hubCacheDir()): Promise<CachedModel[]> {
  const repos = (await readdir(cacheDir).catch(() => [] as string[])).filter((d) => d.startsWith('models--')).sort();
  const out: CachedModel[] = [];
  for (const r of repos) {
    const snaps = path.join(cacheDir, r, 'snapshots');
    for (const sha of (await readdir(snaps).catch(() => [] as string[])).sort()) {
      const dir = path.join(snaps, sha);
      if (await stat(path.join(dir, 'config.json')).then(() => true, () => false)) {
        out.push({ repo: r.slice('models--'.length).split('--').join('/'), dir });
        break;
      }
    }
  }
  return out;
}
