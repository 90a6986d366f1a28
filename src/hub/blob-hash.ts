/**
 * The content hash that names a blob: sha256 for LFS files, and git's blob id
 * (sha1 of "blob <size>\0" + content) for small files stored in git itself.
 * Checking it before the rename is what keeps a corrupted download out of the cache.
 */
import { createHash, type Hash } from 'node:crypto';
import type { RepoFile } from './repo-info.ts';

export function newBlobHasher(file: Pick<RepoFile, 'algorithm' | 'size'>): Hash {
  if (file.algorithm === 'sha256') return createHash('sha256');
  const h = createHash('sha1');
  h.update(`blob ${file.size}\0`);
  return h;
}

export function gitBlobSha1(content: Uint8Array): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

