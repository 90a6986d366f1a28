/**
 * `openHubFile`: one file of a Hub repo as a ByteSource that fetches only the byte ranges asked
 * for, so `inspect hf:ORG/NAME/model.gguf` reads a GGUF header without downloading the weights.
 * The revision is pinned to a commit sha first (reads stay consistent if the branch moves), and
 * the range requests go through the shared HTTP source with our fetch wrapper underneath: auth,
 * retries on 5xx and resets, and Hub errors that name the repo and file. A file already in the
 * HF cache is read from disk instead, which is also how it works offline.
 */
import path from 'node:path';
import { ForgeError, NetworkError, UsageError } from '../../formats/errors.ts';
import { openFileSource, openHttpSource, type ByteSource } from '../../formats/io/byte-source.ts';
import { exists, readRef, repoCache, snapshotDir } from './cache-layout.ts';
import { hubCacheDir, hubOffline } from './env.ts';
import { fetchWithTimeout, httpError, makeClient, withRetries, type HubClient } from './http.ts';
import { encodedResolveUrl, isCommitSha, resolveCommit } from './repo-info.ts';
import { assertRepoId, assertRevision, formatHubRef, type HubRef } from './source.ts';

export interface HubFileOptions {
  endpoint?: string;
  token?: string;
  fetch?: typeof fetch;
  retries?: number;
  retryDelayMs?: number;
  signal?: AbortSignal;
  cacheDir?: string;
  /** Cache only (default: HF_HUB_OFFLINE). */
  offline?: boolean;
}

export async function openHubFile(ref: HubRef, opts: HubFileOptions = {}): Promise<ByteSource> {
  assertRepoId(ref.repo);
  if (!ref.path) throw new UsageError('BAD_HUB_SOURCE', `${formatHubRef(ref)}: name a file inside the repo, e.g. hf:${ref.repo}/model.gguf`, { repo: ref.repo });
  const revision = ref.revision ?? 'main';
  assertRevision(revision);
  const cache = repoCache(hubCacheDir(opts.cacheDir), ref.repo);
  const cachedFile = (commit: string) => path.join(snapshotDir(cache, commit), ...ref.path!.split('/'));
  const openCached = async (commit: string): Promise<ByteSource> => {
    const src = await openFileSource(cachedFile(commit));
    return { ...src, name: formatHubRef({ ...ref, revision: commit }), read: (o, l) => src.read(o, l), size: () => src.size(), close: () => src.close() };
  };
  if (hubOffline(opts.offline)) {
    // Offline: the file must already be in the cache (pulled with --include, or by Python).
    const commit = isCommitSha(revision) ? revision : await readRef(cache, revision);
    if (commit && (await exists(cachedFile(commit)))) return openCached(commit);
    throw new NetworkError('OFFLINE_CACHE_MISS', `${formatHubRef(ref)} is not in the Hugging Face cache at ${cache.repoDir}, and offline mode (HF_HUB_OFFLINE=1) forbids reading it from the Hub`, { repo: ref.repo, file: ref.path });
  }
  const client = makeClient(opts);
  const commit = isCommitSha(revision) ? revision : await resolveCommit(client, ref.repo, revision);
  // A file already in the cache is read from disk: same bytes (verified when pulled), no requests.
  if (await exists(cachedFile(commit))) return openCached(commit);
  const url = encodedResolveUrl(client, ref.repo, commit, ref.path);
  const src = await openHttpSource(url, { fetch: hubRangeFetch(client, { repo: ref.repo, revision: commit, file: ref.path }) }).catch(rethrowOurs);
  const name = formatHubRef({ ...ref, revision: commit });
  return { name, size: () => src.size(), read: (o, l) => src.read(o, l).catch(rethrowOurs), close: () => src.close() };
}

/** The HTTP source wraps fetch failures; surface our own error (it names the repo and file). */
function rethrowOurs(err: unknown): never {
  const cause = (err as { cause?: unknown })?.cause;
  throw err instanceof ForgeError && cause instanceof ForgeError ? cause : err;
}

/** A fetch for range reads: adds auth, retries transient failures, maps Hub errors. */
function hubRangeFetch(client: HubClient, subject: { repo: string; revision: string; file: string }): typeof fetch {
  return (async (input: string | URL | Request, init: RequestInit = {}) =>
    withRetries(client, async () => {
      const headers: Record<string, string> = { ...(init.headers as Record<string, string>), 'accept-encoding': 'identity' };
      if (client.token) headers.authorization = `Bearer ${client.token}`;
      const res = await fetchWithTimeout(client, input instanceof Request ? input.url : String(input), { ...init, headers }, subject);
      if (!res.ok) throw await httpError(res, subject);
      return res;
    })) as typeof fetch;
}
