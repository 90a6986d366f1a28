/**
 * Checks a command makes before it starts work, so the first thing a user reads is the real
 * problem: a missing input is a usage error (exit 2, not the disk-error code 7), a GGUF handed to
 * `convert` points at `quantize`, an existing output is refused before any "writing …" line, and
 * a missing output folder is created rather than reported through a hidden temporary name.
 */
import { mkdir, open, stat } from 'node:fs/promises';
import path from 'node:path';
import { IoError, UsageError, fromFsError } from '../../formats/errors.ts';

const GGUF_MAGIC = 'GGUF';

/** A local input that must exist (hf: and URLs are checked by their readers). */
export async function assertInputExists(p: string, what: string): Promise<void> {
  const st = await stat(p).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
    throw fromFsError(err, p, `open ${what}`);
  });
  if (!st) throw new UsageError('NO_INPUT', `${what} not found: ${p}`, { file: p });
}

/** `convert` takes a model folder; a GGUF file is `quantize`'s input. */
export async function assertNotGguf(source: string, type: string): Promise<void> {
  const st = await stat(source).catch(() => undefined);
  if (!st?.isFile()) return;
  const head = Buffer.alloc(4);
  const fh = await open(source, 'r');
  try {
    await fh.read(head, 0, 4, 0);
  } finally {
    await fh.close();
  }
  if (head.toString('latin1') === GGUF_MAGIC || source.toLowerCase().endsWith('.gguf')) {
    const out = path.basename(source).replace(/(-f32|-f16|-bf16)?\.gguf$/i, '') + `-${type.toUpperCase()}.gguf`;
    throw new UsageError('GGUF_SOURCE', `${source} is a GGUF file; convert takes a Hugging Face model folder. To requantize a GGUF: gguf-forge quantize ${source} ${out} --type ${type}`, { file: source });
  }
}

/** Refuses an existing output (unless --force) and creates the output's folder. */
export async function prepareOutput(output: string, opts: { force?: boolean; dryRun?: boolean }): Promise<void> {
  const target = path.resolve(output);
  if (!opts.force && (await stat(target).then(() => true, () => false))) {
    throw new IoError('EEXIST', `${target} already exists (use --force to overwrite)`, { file: target });
  }
  if (opts.dryRun) return;
  const dir = path.dirname(target);
  await mkdir(dir, { recursive: true }).catch((err) => { throw fromFsError(err, dir, 'create output folder'); });
}
