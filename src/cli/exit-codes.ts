/**
 * The CLI's exit codes: one table, documented in README. Every ForgeError kind maps to one.
 */
import type { ErrorKind } from '../../formats/errors.ts';

export const EXIT_CODES = {
  success: 0,
  internal: 1,
  usage: 2,
  validation: 3,
  format: 4,
  network: 5,
  unsupported: 6,
  io: 7,
  cancelled: 130,
  terminated: 143, // 128 + SIGTERM, what a shell reports for a process the signal killed
} as const satisfies Record<ErrorKind | 'success', number>;

export const EXIT_CODE_MEANING: Record<keyof typeof EXIT_CODES, string> = {
  success: 'success',
  internal: 'internal error (a bug: please report it)',
  usage: 'usage error: bad command, flag or argument',
  validation: 'validation failed, or an anomaly with --fail-on-anomaly',
  format: 'malformed or inconsistent input file',
  network: 'network or Hugging Face Hub failure',
  unsupported: 'unsupported architecture, type or tokenizer',
  io: 'filesystem error: output exists, permission denied, disk full',
  cancelled: 'cancelled (Ctrl-C)',
  terminated: 'terminated by SIGTERM (stopped cleanly: temporary outputs removed)',
};

export function exitCodeFor(kind: ErrorKind): number {
  return EXIT_CODES[kind] ?? EXIT_CODES.internal;
}
