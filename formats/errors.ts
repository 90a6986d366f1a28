/**
 * Typed errors shared by every layer. Each error carries a `code` (what went wrong, for programs)
 * and a `kind` (which exit code the CLI maps it to). `formats/` owns this file because `src/`
 * may import `formats/` but not the reverse; `kernels/` stays error-free and throws RangeError
 * only on programmer mistakes.
 */
export type ErrorKind =
  | 'usage'        // bad flags or arguments
  | 'validation'   // output written but failed validation, or an anomaly with --fail-on-anomaly
  | 'format'       // malformed or inconsistent input file
  | 'network'      // HTTP / Hub failures
  | 'unsupported'  // well-formed input we do not handle (architecture, type, tokenizer)
  | 'io'           // filesystem: exists, permission, disk full
  | 'cancelled'    // AbortSignal / Ctrl-C
  | 'terminated'   // SIGTERM: stopped as cleanly as Ctrl-C, but reported as 143 so supervisors see a termination
  | 'internal';    // a bug

import { safeMessage, untrusted } from './untrusted-text.ts';

export { safeMessage, untrusted } from './untrusted-text.ts';

export interface ErrorContext {
  file?: string;
  tensor?: string;
  offset?: number | bigint;
  repo?: string;
  [key: string]: unknown;
}

export class ForgeError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  readonly context: ErrorContext;
  constructor(kind: ErrorKind, code: string, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    // Messages quote names and values from input files: escaped and capped here, once, for every error.
    super(safeMessage(message), options);
    this.name = 'ForgeError';
    this.kind = kind;
    this.code = code;
    this.context = context;
  }
}

/** Malformed input: the message always names the file and, where known, the offset or tensor. */
export class FormatError extends ForgeError {
  constructor(code: string, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super('format', code, withWhere(message, context), context, options);
    this.name = 'FormatError';
  }
}

export class UnsupportedError extends ForgeError {
  constructor(code: string, message: string, context: ErrorContext = {}) {
    super('unsupported', code, withWhere(message, context), context);
    this.name = 'UnsupportedError';
  }
}

export class UsageError extends ForgeError {
  constructor(code: string, message: string, context: ErrorContext = {}) {
    super('usage', code, message, context);
    this.name = 'UsageError';
  }
}

export class IoError extends ForgeError {
  constructor(code: string, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super('io', code, withWhere(message, context), context, options);
    this.name = 'IoError';
  }
}

export class NetworkError extends ForgeError {
  readonly status?: number;
  constructor(code: string, message: string, context: ErrorContext & { status?: number } = {}, options?: { cause?: unknown }) {
    super('network', code, message, context, options);
    this.name = 'NetworkError';
    this.status = context.status;
  }
}

export class ValidationError extends ForgeError {
  constructor(code: string, message: string, context: ErrorContext = {}) {
    super('validation', code, withWhere(message, context), context);
    this.name = 'ValidationError';
  }
}

export class CancelledError extends ForgeError {
  constructor(message = 'cancelled') {
    super('cancelled', 'CANCELLED', message);
    this.name = 'CancelledError';
  }
}

/** Stopped by SIGTERM (src/cli/sigint.ts turns the pipeline's CancelledError into this). */
export class TerminatedError extends ForgeError {
  constructor(message = 'terminated (SIGTERM); temporary outputs removed') {
    super('terminated', 'TERMINATED', message);
    this.name = 'TerminatedError';
  }
}

/** Prefix a message with "file: tensor 'x' at offset N:" unless the message already names them. */
function withWhere(message: string, ctx: ErrorContext): string {
  const parts: string[] = [];
  if (ctx.file && !message.includes(ctx.file)) parts.push(ctx.file);
  if (ctx.tensor && !message.includes(ctx.tensor)) parts.push(`tensor '${untrusted(ctx.tensor)}'`);
  if (ctx.offset !== undefined && !/offset/.test(message)) parts.push(`offset ${ctx.offset}`);
  return parts.length ? `${parts.join(', ')}: ${message}` : message;
}

/** Map Node's filesystem errors to IoError with a readable message naming the path. */
export function fromFsError(err: unknown, file: string, action: string): ForgeError {
  if (err instanceof ForgeError) return err;
  const e = err as NodeJS.ErrnoException;
  const why: Record<string, string> = {
    ENOSPC: 'no space left on device',
    EDQUOT: 'disk quota exceeded',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    ENOENT: 'no such file or directory',
    EEXIST: 'already exists',
    EISDIR: 'is a directory',
    EROFS: 'read-only file system',
  };
  const reason = (e && e.code && why[e.code]) || (e && e.message) || String(err);
  return new IoError(e?.code ?? 'EIO', `cannot ${action} ${file}: ${reason}`, { file }, { cause: err });
}
