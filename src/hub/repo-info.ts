/**
 * What a revision is: first the commit sha it points to (so every file comes from the same
 * commit even if the branch moves mid-download), then the file list at that sha with each file's
 * size and content hash, read from the tree API (paginated with Link headers).
 */
import { NetworkError } from '../../formats/errors.ts';
import { encodePath, hubJson, type HubClient } from './http.ts';
import { assertSafeRepoPath } from './safe-path.ts';

export interface RepoFile {
  path: string;
  size: number;
  /** Blob name in the cache: the LFS sha256, or the git blob sha1 for small files. */
  etag: string;
  algorithm: 'sha256' | 'git-sha1';
}

interface TreeEntry {
  type: string;
  path: string;
  size: number;
  oid: string;
  lfs?: { oid: string; size: number };
}

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

export async function listRepoFiles(client: HubClient, repo: string, commit: string): Promise<RepoFile[]> {
  const files: RepoFile[] = [];
  let url: string | undefined = `${client.endpoint}/api/models/${repo}/tree/${commit}?recursive=true`;
  while (url) {
    const { body, res }: { body: TreeEntry[]; res: Response } = await hubJson<TreeEntry[]>(client, url, { repo, revision: commit });
    if (!Array.isArray(body)) throw new NetworkError('BAD_RESPONSE', `${repo}@${commit}: the Hub's file list is not an array`, { repo });
    for (const e of body) if (e.type === 'file') files.push(toRepoFile(repo, e));
    url = nextPage(client, res.headers.get('link'), repo);
  }
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
  return { path: e.path, size, etag, algorithm };
}

/** The rel="next" page, followed only on the same origin so the token never leaks elsewhere. */
function nextPage(client: HubClient, link: string | null, repo: string): string | undefined {
  const m = link && /<([^>]+)>\s*;\s*rel="?next"?/.exec(link);
  if (!m) return undefined;
  const next = new URL(m[1], client.endpoint);
  if (next.origin !== new URL(client.endpoint).origin) {
    throw new NetworkError('BAD_RESPONSE', `${repo}: the Hub's next-page link points to another host (${next.origin})`, { repo });
  }
  return next.href;
}

export function encodedResolveUrl(client: HubClient, repo: string, revision: string, file: string): string {
  return `${client.endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${encodePath(file)}`;
}
