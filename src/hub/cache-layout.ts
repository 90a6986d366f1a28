/**
 * Python huggingface_hub's cache layout, byte for byte, so either tool reuses the other's files:
 *   <cache>/models--ORG--NAME/blobs/<etag>              file content; etag = sha256 (LFS) or git blob sha1
 *   <cache>/models--ORG--NAME/blobs/<etag>.incomplete   a download in progress (resumable)
 *   <cache>/models--ORG--NAME/snapshots/<sha>/<path>    relative symlink to ../../blobs/<etag>
 *   <cache>/models--ORG--NAME/refs/<revision>           the commit sha, no trailing newline
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fromFsError } from '../../formats/errors.ts';

export interface RepoCache {
  repoDir: string;
  blobsDir: string;
  snapshotsDir: string;
  refsDir: string;
}

export function repoCache(cacheDir: string, repo: string): RepoCache {
  const repoDir = path.join(cacheDir, 'models--' + repo.split('/').join('--'));
  return {
    repoDir,
    blobsDir: path.join(repoDir, 'blobs'),
    snapshotsDir: path.join(repoDir, 'snapshots'),
    refsDir: path.join(repoDir, 'refs'),
  };
}

export const blobPath = (c: RepoCache, etag: string) => path.join(c.blobsDir, etag);
export const snapshotDir = (c: RepoCache, commit: string) => path.join(c.snapshotsDir, commit);

export async function ensureDir(dir: string): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true });
  } catch (err) {
    throw fromFsError(err, dir, 'create cache directory');
  }
}

/** The commit a cached ref points to, or undefined when the ref was never pulled. */
export async function readRef(c: RepoCache, revision: string): Promise<string | undefined> {
  try {
    return (await fs.readFile(path.join(c.refsDir, revision), 'utf8')).trim();
  } catch {
    return undefined;
  }
}

/** Written only for branch/tag names, as huggingface_hub does: a sha needs no ref. */
export async function writeRef(c: RepoCache, revision: string, commit: string): Promise<void> {
  if (revision === commit) return;
  const file = path.join(c.refsDir, revision);
  await ensureDir(path.dirname(file));
  try {
    const current = await fs.readFile(file, 'utf8').catch(() => undefined);
    if (current?.trim() !== commit) await fs.writeFile(file, commit);
  } catch (err) {
    throw fromFsError(err, file, 'write');
  }
}

/** Point snapshots/<commit>/<repoPath> at the blob with a relative link (replacing a stale one). */
export async function linkSnapshotFile(c: RepoCache, commit: string, repoPath: string, etag: string): Promise<string> {
  const link = path.join(snapshotDir(c, commit), ...repoPath.split('/'));
  const target = path.relative(path.dirname(link), blobPath(c, etag));
  await ensureDir(path.dirname(link));
  try {
    const existing = await fs.readlink(link).catch(() => undefined);
    if (existing === target) return link;
    await fs.rm(link, { force: true });
    await fs.symlink(target, link);
  } catch (err) {
    throw fromFsError(err, link, 'link');
  }
  return link;
}

export async function exists(p: string): Promise<boolean> {
  try {
    await fs.stat(p);
    return true;
  } catch {
    return false;
  }
}
