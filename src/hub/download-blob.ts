/**
 * Downloads one file into blobs/<etag>, resumably and verified:
 * bytes go to blobs/<etag>.incomplete as they arrive, so a dropped connection or a killed process
 * continues with a Range request from where it stopped (in this run's retries or the next run).
 * Only after the whole file hashes to its etag is it renamed to blobs/<etag>; a mismatch deletes
 * the partial file, because resuming from corrupt bytes could never succeed.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { fromFsError, NetworkError } from '../../formats/errors.ts';
import { blobPath, cacheWriteError, ensureDir, type RepoCache } from './cache-layout.ts';
import { newBlobHasher } from './blob-hash.ts';
import { authHeaders, connectionError, httpError, withRetries, type HubClient } from './http.ts';
import { encodedResolveUrl, type RepoFile } from './repo-info.ts';

export interface BlobJob {
  repo: string;
  commit: string;
  file: RepoFile;
  cache: RepoCache;
}

export interface BlobProgress {
  /** Bytes found in a partial download from an earlier attempt or run. */
  resumed(n: number): void;
  received(n: number): void;
  /** The server ignored the Range request: `n` bytes are discarded and fetched again. */
  restarted(n: number): void;
}

export async function downloadBlob(client: HubClient, job: BlobJob, progress: BlobProgress): Promise<void> {
  const { repo, commit, file, cache } = job;
  const subject = { repo, revision: commit, file: file.path };
  const blob = blobPath(cache, file.etag);
  const part = blob + '.incomplete';
  await ensureDir(cache.blobsDir, cache.cacheDir);

  let have = await sizeOf(part);
  if (have > file.size) {
    await removePartial(part);
    have = 0;
  }
  let hasher = newBlobHasher(file);
  await hashExisting(part, have, hasher);
  progress.resumed(have);

  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(part, 'a');
  } catch (err) {
    throw cacheWriteError(err, part, 'open', cache.cacheDir);
  }
  try {
    const url = encodedResolveUrl(client, repo, commit, file.path);
    // One request: from `have` to the end of the file, appended to the partial file as it arrives.
    const receive = async (watchdog: StallWatchdog, headers: Record<string, string>): Promise<void> => {
      let res: Response;
      try {
        res = await client.fetch(url, { headers: authHeaders(client, headers), signal: watchdog.signal });
      } catch (err) {
        throw watchdog.error(err);
      }
      if (!res.ok) throw await httpError(res, subject);
      if (have > 0 && res.status !== 206) {
        // Range ignored: start over rather than append a second copy.
        await truncate(fh, part);
        hasher = newBlobHasher(file);
        progress.restarted(have);
        have = 0;
      } else if (res.status === 206) {
        const start = Number(/bytes (\d+)-/.exec(res.headers.get('content-range') ?? '')?.[1]);
        if (start !== have) {
          await res.body?.cancel().catch(() => {});
          throw new NetworkError('BAD_RESPONSE', `${repo}: ${file.path}: asked for bytes from ${have}, the server sent from ${start}`, { repo, file: file.path });
        }
      }
      if (!res.body) throw new NetworkError('CONNECTION', `${repo}: ${file.path}: empty response body`, { repo, file: file.path });
      // Chunks are written in batches of about 1 MiB (fewer syscalls); whatever was received is
      // flushed before an error propagates, so the partial file always matches the hash state.
      const batch = new WriteBatch(fh, part);
      try {
        try {
          for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
            if (have + chunk.length > file.size) {
              throw new NetworkError('BAD_RESPONSE', `${repo}: ${file.path}: the server sent more than the expected ${file.size} bytes`, { repo, file: file.path });
            }
            watchdog.kick();
            hasher.update(chunk);
            have += chunk.length;
            await batch.add(chunk);
            progress.received(chunk.length);
          }
        } finally {
          await batch.flush();
        }
      } catch (err) {
        throw watchdog.error(err);
      }
      if (have < file.size) {
        throw new NetworkError('CONNECTION', `${repo}: ${file.path}: connection closed after ${have} of ${file.size} bytes`, { repo, file: file.path });
      }
    };
    await withRetries(client, async () => {
      if (have >= file.size) return;
      const headers: Record<string, string> = { 'accept-encoding': 'identity' };
      if (have > 0) headers.range = `bytes=${have}-`;
      const watchdog = new StallWatchdog(client, subject);
      try {
        await receive(watchdog, headers);
      } finally {
        watchdog.stop();
      }
    });
  } finally {
    await fh.close().catch(() => {});
  }

  const digest = hasher.digest('hex');
  if (digest !== file.etag) {
    await removePartial(part);
    const algo = file.algorithm === 'sha256' ? 'sha256' : 'git blob sha1';
    throw new NetworkError('HASH_MISMATCH', `${repo}@${commit}: ${file.path}: downloaded bytes fail verification (${algo} ${digest}, expected ${file.etag}); the partial download was deleted and nothing was added to the cache`, { repo, file: file.path });
  }
  try {
    await fsp.rename(part, blob);
  } catch (err) {
    throw fromFsError(err, blob, 'publish');
  }
}

/**
 * Aborts a request that goes quiet (a half-dead connection would otherwise hang the pull
 * forever); the abort surfaces as a retryable CONNECTION error, so the retry resumes by Range.
 */
class StallWatchdog {
  private readonly own = new AbortController();
  readonly signal: AbortSignal;
  private timer: NodeJS.Timeout | undefined;
  private stalled = false;

  constructor(private readonly client: HubClient, private readonly subject: { repo: string; file: string }) {
    this.signal = client.signal ? AbortSignal.any([client.signal, this.own.signal]) : this.own.signal;
    this.kick();
  }

  kick(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.stalled = true;
      this.own.abort();
    }, this.client.stallTimeoutMs);
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  error(err: unknown) {
    if (this.stalled && !this.client.signal?.aborted) {
      const s = this.subject;
      return new NetworkError('CONNECTION', `${s.repo}: ${s.file}: no data received for ${this.client.stallTimeoutMs / 1000} s`, { repo: s.repo, file: s.file }, { cause: err });
    }
    return connectionError(err, this.subject, this.client.signal);
  }
}

async function sizeOf(p: string): Promise<number> {
  try {
    return (await fsp.stat(p)).size;
  } catch {
    return 0;
  }
}

async function hashExisting(part: string, length: number, hasher: { update(b: Uint8Array): unknown }): Promise<void> {
  if (length === 0) return;
  try {
    for await (const chunk of fs.createReadStream(part, { start: 0, end: length - 1, highWaterMark: 1 << 20 })) hasher.update(chunk as Buffer);
  } catch (err) {
    throw fromFsError(err, part, 'read partial download');
  }
}

class WriteBatch {
  private chunks: Uint8Array[] = [];
  private bytes = 0;
  constructor(private readonly fh: fsp.FileHandle, private readonly part: string, private readonly limit = 1 << 20) {}

  async add(chunk: Uint8Array): Promise<void> {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    if (this.bytes >= this.limit) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.bytes === 0) return;
    const data = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.bytes);
    this.chunks = [];
    this.bytes = 0;
    try {
      let off = 0;
      while (off < data.length) off += (await this.fh.write(data, off, data.length - off)).bytesWritten;
    } catch (err) {
      throw fromFsError(err, this.part, 'write');
    }
  }
}

async function truncate(fh: fsp.FileHandle, part: string): Promise<void> {
  try {
    await fh.truncate(0);
  } catch (err) {
    throw fromFsError(err, part, 'truncate');
  }
}

async function removePartial(part: string): Promise<void> {
  try {
    await fsp.rm(part, { force: true });
  } catch (err) {
    throw fromFsError(err, part, 'delete');
  }
}
