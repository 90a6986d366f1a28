/**
 * One writer per blob: two pulls of the same model (two terminals, the TUI and a script) would
 * otherwise append to the same blobs/<etag>.incomplete and ruin it. The lock is a file created
 * with O_EXCL holding the owner's pid; a lock whose owner is dead (killed mid-download) is stale
 * and taken over. Our lock files have their own name, so they never collide with the flock files
 * Python's huggingface_hub keeps in .locks/.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fromFsError } from '../../formats/errors.ts';
import { isProcessAlive } from '../../formats/io/process-alive.ts';
import { cacheWriteError, ensureDir } from './cache-layout.ts';
import { sleep } from './http.ts';

export interface BlobLock {
  release(): Promise<void>;
}

/** Waits (polling) until this process holds the lock for `etag` in the repo's lock folder. */
export async function lockBlob(cacheDir: string, repoFolder: string, etag: string, signal?: AbortSignal, pollMs = 100): Promise<BlobLock> {
  const dir = path.join(cacheDir, '.locks', repoFolder);
  const file = path.join(dir, `${etag}.gguf-forge.lock`);
  await ensureDir(dir, cacheDir);
  const token = `${process.pid} ${Math.random().toString(36).slice(2)}`;
  for (;;) {
    try {
      await fs.writeFile(file, token, { flag: 'wx' });
      return {
        release: async () => {
          // Only remove the lock if it is still ours (a stale-lock takeover may have replaced it).
          if ((await fs.readFile(file, 'utf8').catch(() => '')) === token) await fs.rm(file, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw cacheWriteError(err, file, 'create lock', cacheDir);
    }
    const owner = await fs.readFile(file, 'utf8').catch(() => undefined);
    if (owner !== undefined && !isProcessAlive(Number(owner.split(' ')[0]))) {
      await fs.rm(file, { force: true });
      continue;
    }
    await sleep(pollMs, signal);
  }
}
