/**
 * File paths come from the server and become paths under snapshots/<sha>/. A hostile or broken
 * Hub must not be able to write outside the snapshot, so `..`, absolute paths, backslashes and
 * empty segments are refused before anything touches the disk.
 */
import { FormatError } from '../../formats/errors.ts';

export function assertSafeRepoPath(repo: string, p: string): void {
  const bad =
    typeof p !== 'string' ||
    p.length === 0 ||
    p.startsWith('/') ||
    /^[A-Za-z]:/.test(p) ||
    p.includes('\\') ||
    p.includes('\0') ||
    p.split('/').some((seg) => seg === '' || seg === '.' || seg === '..');
  if (bad) {
    throw new FormatError('UNSAFE_PATH', `${repo}: refusing repo file path '${String(p)}': it would escape the snapshot folder`, { repo, file: String(p) });
  }
}
