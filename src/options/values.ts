/**
 * Parsers for option values shared by the CLI flags (src/cli/options.ts) and the batch file
 * (src/batch/spec.ts), so `--threads 0`, `bits: x` and `--type q4_00` are judged by one rule each.
 * Each throws a UsageError whose message says what was expected; callers add where (flag, line).
 */
import { UsageError } from '../../formats/errors.ts';
import { fileTypeByName } from '../../kernels/file-types.ts';
import { PLANNABLE_FILE_TYPES } from '../policy/type-policy.ts';

export const GROUPWISE_METHODS = ['awq', 'gptq'] as const;

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

/**
 * A target type as users type it (any case): a llama.cpp file type this tool plans, or awq/gptq
 * when `groupwise`. Returns the canonical name (`q5_K_M`, `awq`); an unknown name gets the
 * closest known one as a suggestion.
 */
export function targetType(value: string, groupwise = true): string {
  const lower = value.toLowerCase();
  if (groupwise && (GROUPWISE_METHODS as readonly string[]).includes(lower)) return lower;
  const ft = fileTypeByName(value);
  if (ft && PLANNABLE_FILE_TYPES.includes(ft.name)) return ft.name;
  const known = [...PLANNABLE_FILE_TYPES, ...(groupwise ? GROUPWISE_METHODS : [])];
  const hint = closest(value, known);
  throw new UsageError('BAD_FILE_TYPE', `unknown or unsupported type '${value}'${hint ? ` (did you mean ${hint}?)` : ''}; supported: ${known.join(', ')}`);
}

/** The known name nearest to `value` (case-insensitive edit distance ≤ 2), if any. */
export function closest(value: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of known) {
    const d = editDistance(value.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}
