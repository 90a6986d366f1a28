/**
 * Parsers for option values shared by the CLI flags (src/cli/options.ts) and the batch file
 * (src/batch/spec.ts), so `--threads 0` and `bits: x` are judged by one rule each (`--type` by
 * target-type.ts, which needs the type tables). Each throws a UsageError whose message says what
 * was expected; callers add where (flag, line).
 */
import { UsageError } from '../../formats/errors.ts';

export function positiveInteger(value: string | number): number {
  const n = typeof value === 'number' ? value : /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1) throw new UsageError('BAD_NUMBER', `expected a positive integer, got '${value}'`);
  return n;
}

/** 0, 1, 2, … (the calibration seed). */
export function nonNegativeInteger(value: string | number): number {
  const n = typeof value === 'number' ? value : /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 0) throw new UsageError('BAD_NUMBER', `expected a non-negative integer, got '${value}'`);
  return n;
}

export function integer(value: string | number): number {
  const n = typeof value === 'number' ? value : /^\s*-?\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n)) throw new UsageError('BAD_NUMBER', `expected an integer, got '${value}'`);
  return n;
}

/** A finite number above 0 (`1.5`, `10`, `1e-3`): the calibration loss thresholds. */
export function positiveNumber(value: string | number): number {
  const n = typeof value === 'number' ? value : /^\s*[+]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(n) || n <= 0) throw new UsageError('BAD_NUMBER', `expected a positive number, got '${value}'`);
  return n;
}

export function viaType(value: string): 'f16' {
  if (value.toLowerCase() !== 'f16') throw new UsageError('BAD_VIA', `only 'f16' is supported, got '${value}'`);
  return 'f16';
}
