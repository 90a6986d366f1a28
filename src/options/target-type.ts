/**
 * The `--type` value (CLI and batch file), judged by one rule: a plannable llama.cpp file type or
 * awq/gptq, any case, with a "did you mean" on a typo. Its own module because it needs the file
 * type and policy tables, which commands without --type (inspect, pull) do not load.
 */
import { UsageError } from '../../formats/errors.ts';
import { fileTypeByName } from '../../kernels/file-types.ts';
import { PLANNABLE_FILE_TYPES } from '../policy/type-policy.ts';

export const GROUPWISE_METHODS = ['awq', 'gptq'] as const;

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
