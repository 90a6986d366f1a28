/**
 * Atomic outputs: everything is written to `<dir>/.<name>.<random>.tmp` and renamed onto the
 * target only on `commit()`, so a crash, an error or Ctrl-C leaves either the old state or the
 * complete new output, never a partial file. Same directory, so the rename never crosses devices.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { IoError, fromFsError } from '../errors.ts';
import { registerTemp, unregisterTemp } from './temp-registry.ts';

export interface AtomicFile {
  /** Final path. */
  readonly path: string;
  /** Where to write until commit. */
  readonly tmpPath: string;
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

function tempNameFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
}

async function create(pathIn: string, opts: AtomicOptions, kind: 'file' | 'dir'): Promise<AtomicFile> {
  const path = resolve(pathIn);
  if (!opts.force && (await exists(path))) throw refuseExisting(path);
  const tmpPath = tempNameFor(path);
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
