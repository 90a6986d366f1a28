/**
 * HF_HUB_OFFLINE=1: answer from the cache alone. The revision comes from refs/ (or is a sha), the
 * files from snapshots/<sha>. Anything the conversion would need but the cache lacks (no
 * snapshot, no safetensors, a shard named in the index, an explicitly included file, a dangling
 * link) is a clear error rather than a half-converted model.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { NetworkError } from '../../formats/errors.ts';
import type { PipelineEvent } from '../pipeline/events.ts';
import { readRef, snapshotDir, type RepoCache } from './cache-layout.ts';
import { globToRegExp, selectFiles } from './file-selection.ts';
import type { PullResult } from './pull.ts';
import { isCommitSha } from './repo-info.ts';

export async function* pullFromCache(cache: RepoCache, repo: string, revision: string, include: string[]): AsyncGenerator<PipelineEvent, PullResult> {
  const missing = (what: string) =>
    new NetworkError('OFFLINE_CACHE_MISS', `${repo}@${revision}: ${what} is not in the Hugging Face cache at ${cache.repoDir}, and offline mode (HF_HUB_OFFLINE=1) forbids downloading it; pull it once online`, { repo });

  const commit = isCommitSha(revision) ? revision : await readRef(cache, revision);
  if (!commit) throw missing(`revision '${revision}'`);
  const dir = snapshotDir(cache, commit);
  const present = await listSnapshot(dir);
  if (!present) throw missing(`snapshot ${commit}`);

  const files = selectFiles(present, include);
  const broken = files.filter((f) => f.size < 0).map((f) => f.path);
  if (broken.length) throw missing(`the content of ${broken.join(', ')}`);
  if (!files.some((f) => f.path.endsWith('.safetensors')) && !include.length) throw missing('a .safetensors weights file');
  for (const p of include) {
    if (!/[*?[]/.test(p) && !p.endsWith('/') && !files.some((f) => globToRegExp(p).test(f.path))) throw missing(`file ${p}`);
  }
  const names = new Set(files.map((f) => f.path));
  for (const idx of files.filter((f) => f.path.endsWith('.safetensors.index.json'))) {
    const shards = await indexShards(path.join(dir, idx.path));
    const absent = shards.filter((s) => !names.has(s));
    if (absent.length) throw missing(`shard ${absent[0]} (listed in ${idx.path})`);
  }

  const total = files.reduce((s, f) => s + f.size, 0);
  let done = 0;
  for (const f of files) {
    done += f.size;
    yield {
      type: 'download', file: f.path, state: 'cached',
      fileProgress: { bytesDone: f.size, bytesTotal: f.size, rate: 0, etaSeconds: 0 },
      overall: { bytesDone: done, bytesTotal: total, rate: 0, etaSeconds: 0 },
    };
  }
  return { snapshotDir: dir, commit, files: files.map((f) => f.path) };
}

/** Repo paths under a snapshot with their sizes (-1 for a dangling link), or null if absent. */
async function listSnapshot(dir: string): Promise<{ path: string; size: number }[] | null> {
  let entries;
  try {
    entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  } catch {
    return null;
  }
  const out: { path: string; size: number }[] = [];
  for (const e of entries) {
    if (e.isDirectory()) continue;
    const full = path.join(e.parentPath ?? (e as { path: string }).path, e.name);
    const rel = path.relative(dir, full).split(path.sep).join('/');
    const st = await fs.stat(full).catch(() => null);
    if (st?.isDirectory()) continue;
    out.push({ path: rel, size: st ? st.size : -1 });
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

async function indexShards(file: string): Promise<string[]> {
  try {
    const index = JSON.parse(await fs.readFile(file, 'utf8')) as { weight_map?: Record<string, string> };
    return [...new Set(Object.values(index.weight_map ?? {}))];
  } catch {
    return [];
  }
}
