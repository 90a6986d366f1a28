/**
 * Atomic outputs: everything is written to `<dir>/.<name>.<pid>-<random>.tmp` and renamed onto
 * the target only on `commit()`, so a crash, an error or Ctrl-C leaves either the old state or the
 * complete new output, never a partial file. Same directory, so the rename never crosses devices.
 *
 * kill -9 cannot be caught, so its temp stays; the owner's pid in the name lets the next run for
 * the same output remove it (`staleRemoved`, reported by the pipeline as a warning). A temp whose
 * process is alive, or whose name carries no pid (older versions), is never touched.
 */
import { lstat, mkdir, open, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { IoError, fromFsError } from '../errors.ts';
import { isProcessAlive } from './process-alive.ts';
import { registerTemp, unregisterTemp } from './temp-registry.ts';

export interface AtomicFile {
  /** Final path. */
  readonly path: string;
  /** Where to write until commit. */
  readonly tmpPath: string;
  /** Temps of dead processes for this same output, removed when this one was created. */
  readonly staleRemoved: readonly string[];
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export interface AtomicOptions {
  /** Replace an existing target. */
  force?: boolean;
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw fromFsError(err, path, 'check');
  }
}

function refuseExisting(path: string): IoError {
  return new IoError('EEXIST', `${path} already exists (use --force to overwrite)`, { file: path });
}

async function tempNameFor(path: string): Promise<string> {
  // Unique, not secret: the pid and 48 random bits name it, and it is created with 'wx' (never
  // over an existing file). Math.random spares loading node:crypto (~5 ms) on every write.
  const hex = Math.floor(Math.random() * 2 ** 48).toString(16).padStart(12, '0');
  return join(dirname(path), `.${basename(path)}.${process.pid}-${hex}.tmp`);
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Removes `<dir>/.<name>.<pid>-<hex>.tmp` left by dead processes; returns what was removed. */
export async function removeStaleTemps(pathIn: string): Promise<string[]> {
  const path = resolve(pathIn);
  const pattern = new RegExp(`^\\.${escapeRegex(basename(path))}\\.(\\d+)-[0-9a-f]{12}\\.tmp$`);
  const entries = await readdir(dirname(path)).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const entry of entries) {
    const m = pattern.exec(entry);
    if (!m || Number(m[1]) === process.pid || isProcessAlive(Number(m[1]))) continue;
    const stale = join(dirname(path), entry);
    try {
      await rm(stale, { recursive: true, force: true });
      removed.push(stale);
    } catch {
      // Not ours to insist on (permissions, a concurrent cleaner): leave it for the next run.
    }
  }
  return removed;
}

async function create(pathIn: string, opts: AtomicOptions, kind: 'file' | 'dir'): Promise<AtomicFile> {
  const path = resolve(pathIn);
  if (!opts.force && (await exists(path))) throw refuseExisting(path);
  const staleRemoved = await removeStaleTemps(path);
  const tmpPath = await tempNameFor(path);
  try {
    if (kind === 'dir') await mkdir(tmpPath);
    else await (await open(tmpPath, 'wx')).close();
  } catch (err) {
    throw fromFsError(err, tmpPath, 'create');
  }
  registerTemp(tmpPath);
  let state: 'open' | 'committed' | 'aborted' = 'open';
  return {
    path,
    tmpPath,
    staleRemoved,
    async commit() {
      if (state !== 'open') throw new IoError('ATOMIC_STATE', `cannot commit ${path}: already ${state}`, { file: path });
      // Re-check: someone may have created the target while we were writing.
      if (!opts.force && (await exists(path))) throw refuseExisting(path);
      try {
        // rename() replaces files but not non-empty directories, so move an old folder out first.
        if (kind === 'dir' && opts.force && (await exists(path))) await rm(path, { recursive: true, force: true });
        await rename(tmpPath, path);
      } catch (err) {
        throw fromFsError(err, path, 'write');
      }
      state = 'committed';
      unregisterTemp(tmpPath);
    },
    async abort() {
      if (state !== 'open') return;
      state = 'aborted';
      await rm(tmpPath, { recursive: true, force: true });
      unregisterTemp(tmpPath);
    },
  };
}

/** A file written at `tmpPath`, renamed to `path` on commit. IoError code 'EEXIST' if `path` exists and !force. */
export function createAtomicFile(path: string, opts: AtomicOptions = {}): Promise<AtomicFile> {
  return create(path, opts, 'file');
}

/** The same for an output folder (AWQ/GPTQ safetensors plus config files). */
export function createAtomicDir(path: string, opts: AtomicOptions = {}): Promise<AtomicFile> {
  return create(path, opts, 'dir');
}

/**
 * A small file (a JSON report, a completion marker) written through the same atomic path:
 * replaced whole or not at all, so a full disk never leaves a truncated report that still
 * begins `"complete": true`. Returns the stale temps removed on the way.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<readonly string[]> {
  const f = await createAtomicFile(path, { force: true });
  try {
    await writeFile(f.tmpPath, data);
  } catch (err) {
    await f.abort();
    throw fromFsError(err, path, 'write');
  }
  await f.commit().catch(async (err) => { await f.abort(); throw err; });
  return f.staleRemoved;
}
