/**
 * `pullModel`: download what a conversion needs from a Hub repo into the standard HF cache and
 * return the snapshot folder. The revision is resolved to a commit sha first and every file is
 * fetched by that sha, so a branch moving mid-pull cannot mix two commits. Files go 2–4 at a time;
 * progress is a stream of DownloadEvents (the same pipeline events the TUI and --jsonl consume).
 */
import path from 'node:path';
import { CancelledError, NetworkError } from '../../formats/errors.ts';
import type { DownloadEvent, PipelineEvent, TransferProgress } from '../pipeline/events.ts';
import { blobPath, ensureDir, exists, linkSnapshotFile, repoCache, snapshotDir, writeRef, type RepoCache } from './cache-layout.ts';
import { downloadBlob } from './download-blob.ts';
import { lockBlob } from './blob-lock.ts';
import { hubCacheDir, hubOffline } from './env.ts';
import { drainWhile, runPool } from './event-queue.ts';
import { assertHasWeights, selectFiles } from './file-selection.ts';
import { makeClient, type HubClient } from './http.ts';
import { pullFromCache } from './offline.ts';
import { TransferMeter } from './progress.ts';
import { isCommitSha, listRepoFiles, resolveCommit, type RepoFile } from './repo-info.ts';
import { assertRepoId, assertRevision } from './source.ts';

export interface PullOptions {
  repo: string;
  revision?: string;
  /** Extra fnmatch patterns to download besides the default selection (e.g. "*.gguf"). */
  include?: string[];
  token?: string;
  endpoint?: string;
  cacheDir?: string;
  offline?: boolean;
  concurrency?: number;
  signal?: AbortSignal;
  fetch?: typeof fetch;
  /** Extra attempts on 5xx / dropped connections (default 5) and the first backoff delay (default 500 ms). */
  retries?: number;
  retryDelayMs?: number;
  /** Drop and resume a download that receives nothing for this long (default 60 s). */
  stallTimeoutMs?: number;
}

export interface PullResult {
  snapshotDir: string;
  commit: string;
  files: string[];
}

/** Progress events at most this often per file (plus start and done). */
const PROGRESS_INTERVAL_MS = 200;

export async function* pullModel(opts: PullOptions): AsyncGenerator<PipelineEvent, PullResult> {
  assertRepoId(opts.repo);
  const revision = opts.revision ?? 'main';
  assertRevision(revision);
  const repo = opts.repo;
  const cacheDir = hubCacheDir(opts.cacheDir);
  const cache = repoCache(cacheDir, repo);
  yield { type: 'phase', phase: 'resolve', message: `resolving hf:${repo}@${revision}` };

  if (hubOffline(opts.offline)) return yield* pullFromCache(cache, repo, revision, opts.include ?? []);

  await ensureDir(cache.repoDir, cacheDir);
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) throw new CancelledError('download cancelled');
  const client = makeClient({ ...opts, signal: controller.signal });
  try {
    let commit: string;
    let all: RepoFile[];
    try {
      commit = isCommitSha(revision) ? revision : await resolveCommit(client, repo, revision);
      all = await listRepoFiles(client, repo, commit);
    } catch (err) {
      // Like huggingface_hub: an unreachable Hub falls back to what the cache already has.
      if (!(err instanceof NetworkError && err.code === 'CONNECTION')) throw err;
      const cached = await fromCacheOrNull(cache, repo, revision, opts.include ?? []);
      if (!cached) throw err;
      yield { type: 'warning', code: 'HUB_UNREACHABLE', message: `${err.message}; using the cached snapshot ${cached.result.commit}` };
      for (const ev of cached.events) yield ev;
      return cached.result;
    }
    const selected = selectFiles(all, opts.include);
    assertHasWeights(repo, all, selected, opts.include);
    const totalBytes = selected.reduce((s, f) => s + f.size, 0);
    yield { type: 'phase', phase: 'download', message: `${selected.length} files, ${totalBytes} bytes from ${repo}@${commit.slice(0, 10)}` };

    const overall = new TransferMeter(totalBytes);
    const concurrency = Math.max(1, Math.min(8, opts.concurrency ?? 3));
    yield* drainWhile<PipelineEvent>((emit) =>
      runPool(groupByBlob(selected), concurrency, (group) =>
        fetchGroup(client, { repo, commit, cache, cacheDir }, group, overall, emit).catch((err) => {
          // The first failure stops the other downloads now (their partial files stay resumable).
          controller.abort();
          throw err;
        }),
      ),
    );
    if (revision !== commit) await writeRef(cache, revision, commit);
    return { snapshotDir: snapshotDir(cache, commit), commit, files: selected.map((f) => f.path) };
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    // An abandoned generator (consumer stopped early) must not leave downloads running.
    controller.abort();
  }
}

interface Where {
  repo: string;
  commit: string;
  cache: RepoCache;
  cacheDir: string;
}

/** The offline answer, or null when the cache cannot satisfy the request. */
async function fromCacheOrNull(cache: RepoCache, repo: string, revision: string, include: string[]): Promise<{ events: PipelineEvent[]; result: PullResult } | null> {
  const events: PipelineEvent[] = [];
  try {
    const gen = pullFromCache(cache, repo, revision, include);
    for (let r = await gen.next(); ; r = await gen.next()) {
      if (r.done) return { events, result: r.value };
      events.push(r.value);
    }
  } catch {
    return null;
  }
}

/** Files with identical content share one blob, so they are downloaded once. */
function groupByBlob(files: RepoFile[]): RepoFile[][] {
  const groups = new Map<string, RepoFile[]>();
  for (const f of files) groups.set(f.etag, [...(groups.get(f.etag) ?? []), f]);
  return [...groups.values()];
}

async function fetchGroup(
  client: HubClient,
  where: Where,
  group: RepoFile[],
  overall: TransferMeter,
  emit: (ev: PipelineEvent) => void,
): Promise<void> {
  const [file, ...twins] = group;
  const event = (f: RepoFile, state: DownloadEvent['state'], fileProgress: TransferProgress): DownloadEvent => ({
    type: 'download', file: f.path, state, fileProgress, overall: overall.snapshot(),
  });
  const complete = (f: RepoFile): TransferProgress => ({ bytesDone: f.size, bytesTotal: f.size, rate: 0, etaSeconds: 0 });

  const cached = async () => {
    // Already in the cache (from an earlier pull, another process, or Python's huggingface_hub).
    for (const f of group) {
      overall.skip(f.size);
      await linkSnapshotFile(where.cache, where.commit, f.path, f.etag);
      emit(event(f, 'cached', complete(f)));
    }
  };
  if (await exists(blobPath(where.cache, file.etag))) return cached();
  const lock = await lockBlob(where.cacheDir, path.basename(where.cache.repoDir), file.etag, client.signal);
  let final: TransferProgress;
  try {
    // Another process may have finished it while we waited for the lock.
    if (await exists(blobPath(where.cache, file.etag))) return await cached();
    final = await download(client, where, file, overall, emit, event);
  } finally {
    await lock.release();
  }
  await linkSnapshotFile(where.cache, where.commit, file.path, file.etag);
  emit(event(file, 'done', final));
  for (const f of twins) {
    overall.skip(f.size);
    await linkSnapshotFile(where.cache, where.commit, f.path, f.etag);
    emit(event(f, 'cached', complete(f)));
  }
}

type MakeEvent = (f: RepoFile, state: DownloadEvent['state'], fileProgress: TransferProgress) => DownloadEvent;

async function download(client: HubClient, where: Where, file: RepoFile, overall: TransferMeter, emit: (ev: PipelineEvent) => void, event: MakeEvent): Promise<TransferProgress> {
  const meter = new TransferMeter(file.size);
  let lastEmit = 0;
  await downloadBlob(client, { ...where, file }, {
    resumed(n) {
      meter.skip(n);
      overall.skip(n);
      emit(event(file, 'start', meter.snapshot()));
    },
    received(n) {
      meter.add(n);
      overall.add(n);
      const now = performance.now();
      if (now - lastEmit >= PROGRESS_INTERVAL_MS) {
        lastEmit = now;
        emit(event(file, 'progress', meter.snapshot()));
      }
    },
    restarted(n) {
      meter.rewind(n);
      overall.rewind(n);
    },
  });
  return meter.snapshot();
}
