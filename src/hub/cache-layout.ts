/**
 * Python huggingface_hub's cache layout, byte for byte, so either tool reuses the other's files:
 *   <cache>/models--ORG--NAME/blobs/<etag>              file content; etag = sha256 (LFS) or git blob sha1
 *   <cache>/models--ORG--NAME/blobs/<etag>.incomplete   a download in progress (resumable)
 *   <cache>/models--ORG--NAME/snapshots/<sha>/<path>    relative symlink to ../../blobs/<etag>
 *   <cache>/models--ORG--NAME/refs/<revision>           the commit sha, no trailing newline
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ForgeError, IoError, fromFsError } from '../../formats/errors.ts';

export interface RepoCache {
  /** The cache root (HF_HUB_CACHE), named when it turns out to be read-only. */
  cacheDir: string;
  repoDir: string;
  blobsDir: string;
  snapshotsDir: string;
  refsDir: string;
}

export function repoCache(cacheDir: string, repo: string): RepoCache {
  const repoDir = path.join(cacheDir, 'models--' + repo.split('/').join('--'));
  return {
    cacheDir,
    repoDir,
    blobsDir: path.join(repoDir, 'blobs'),
    snapshotsDir: path.join(repoDir, 'snapshots'),
    refsDir: path.join(repoDir, 'refs'),
  };
}

export const blobPath = (c: RepoCache, etag: string) => path.join(c.blobsDir, etag);
export const snapshotDir = (c: RepoCache, commit: string) => path.join(c.snapshotsDir, commit);

export async function ensureDir(dir: string, cacheDir?: string): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true });
  } catch (err) {
    throw cacheWriteError(await realMkdirError(err, dir), dir, 'create cache directory', cacheDir);
  }
}

/**
 * Node's recursive mkdir reports ENOENT on a read-only file system (it retries the parent and
 * reports that), which reads as a missing path. Creating the first missing folder alone gives the
 * real reason (EROFS, EACCES).
 */
async function realMkdirError(err: unknown, dir: string): Promise<unknown> {
  if ((err as NodeJS.ErrnoException)?.code !== 'ENOENT') return err;
  let missing = path.resolve(dir);
  for (let parent = path.dirname(missing); parent !== missing && !(await exists(parent)); parent = path.dirname(parent)) missing = parent;
  return fs.mkdir(missing).then(() => err, (real: unknown) => real);
}

const READ_ONLY = new Set(['EROFS', 'EACCES', 'EPERM']);

/** A filesystem error inside the cache; a read-only cache is said so, naming the cache. */
export function cacheWriteError(err: unknown, file: string, action: string, cacheDir: string | undefined): ForgeError {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (!cacheDir || !code || !READ_ONLY.has(code)) return fromFsError(err, file, action);
  const why = code === 'EROFS' ? 'read-only file system' : 'permission denied';
  return new IoError(
    'CACHE_READ_ONLY',
    `the Hugging Face cache ${cacheDir} is read-only (${why}): cannot ${action} ${file}; set HF_HUB_CACHE to a writable folder, or pass --offline to use what it holds`,
    { file: cacheDir },
    { cause: err },
  );
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
  await ensureDir(path.dirname(file), c.cacheDir);
  try {
    const current = await fs.readFile(file, 'utf8').catch(() => undefined);
    if (current?.trim() !== commit) await fs.writeFile(file, commit);
  } catch (err) {
    throw cacheWriteError(err, file, 'write', c.cacheDir);
  }
}

/**
 * Point snapshots/<commit>/<repoPath> at the blob with a relative link. Concurrent pulls into one
 * cache link the same files, so the link is made under a temporary name and renamed over the
 * final one (atomic, and it replaces a stale link); a link that already points at the blob is success.
 */
export async function linkSnapshotFile(c: RepoCache, commit: string, repoPath: string, etag: string): Promise<string> {
  const link = path.join(snapshotDir(c, commit), ...repoPath.split('/'));
  const target = path.relative(path.dirname(link), blobPath(c, etag));
  await ensureDir(path.dirname(link), c.cacheDir);
  if ((await fs.readlink(link).catch(() => undefined)) === target) return link;
  const tmp = `${link}.${process.pid}-${randomBytes(6).toString('hex')}.linktmp`;
  try {
    await fs.symlink(target, tmp);
    await fs.rename(tmp, link);
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => {});
    // Another pull may have won the race with the same link: that is the result we wanted.
    if ((await fs.readlink(link).catch(() => undefined)) === target) return link;
    throw cacheWriteError(err, link, 'link', c.cacheDir);
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
