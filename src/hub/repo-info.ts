/**
 * What a revision is: first the commit sha it points to (so every file comes from the same
 * commit even if the branch moves mid-download), then the file list at that sha with each file's
 * size and content hash, read from the tree API (paginated with Link headers).
 */
import { NetworkError } from '../../formats/errors.ts';
import { listFiles, type ListFileEntry } from '@huggingface/hub';
import { encodePath, fetchThrough, hubJson, type HubClient } from './http.ts';
import { assertSafeRepoPath } from './safe-path.ts';

export interface RepoFile {
  path: string;
  size: number;
  /** Blob name in the cache: the LFS sha256, or the git blob sha1 for small files. */
  etag: string;
  algorithm: 'sha256' | 'git-sha1';
}

type TreeEntry = Pick<ListFileEntry, 'path' | 'size' | 'oid' | 'lfs'>;

const SHA1 = /^[0-9a-f]{40}$/;
const SHA256 = /^[0-9a-f]{64}$/;

export const isCommitSha = (rev: string) => SHA1.test(rev);

export async function resolveCommit(client: HubClient, repo: string, revision: string): Promise<string> {
  const url = `${client.endpoint}/api/models/${repo}/revision/${encodeURIComponent(revision)}`;
  const { body } = await hubJson<{ sha?: string }>(client, url, { repo, revision });
  if (typeof body.sha !== 'string' || !SHA1.test(body.sha)) {
    throw new NetworkError('BAD_RESPONSE', `${repo}@${revision}: the Hub did not return a commit sha`, { repo });
  }
  return body.sha;
}

/** Every file at `commit`, through @huggingface/hub's paginated tree listing. */
export async function listRepoFiles(client: HubClient, repo: string, commit: string): Promise<RepoFile[]> {
  const files: RepoFile[] = [];
  const entries = listFiles({ repo: { type: 'model', name: repo }, revision: commit, recursive: true, hubUrl: client.endpoint, fetch: fetchThrough(client, { repo, revision: commit }) });
  for await (const e of entries) if (e.type === 'file') files.push(toRepoFile(repo, e));
  return files;
}

function toRepoFile(repo: string, e: TreeEntry): RepoFile {
  assertSafeRepoPath(repo, e.path);
  const etag = e.lfs ? e.lfs.oid : e.oid;
  const algorithm = e.lfs ? 'sha256' : 'git-sha1';
  const size = e.lfs ? e.lfs.size : e.size;
  if (!(algorithm === 'sha256' ? SHA256 : SHA1).test(etag ?? '') || !Number.isSafeInteger(size) || size < 0) {
    throw new NetworkError('BAD_RESPONSE', `${repo}: ${e.path}: the Hub listed an invalid hash or size`, { repo, file: e.path });
  }
  return { path: e.path, size, etag: etag!, algorithm };
}

export function encodedResolveUrl(client: HubClient, repo: string, revision: string, file: string): string {
  return `${client.endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${encodePath(file)}`;
}
