/**
 * The user's per-tensor type choices, parsed the way llama-quantize parses them: `--tensor-type
 * PATTERN=TYPE` (first match wins, pattern searched in the name) and the single-type flags
 * (`--output-tensor-type`, `--token-embedding-type`).
 */
import { UsageError } from '../../formats/errors.ts';
import { ggmlTypeByName } from '../../kernels/ggml-types.ts';

/** Parses `PATTERN=TYPE` the way llama-quantize does: split at the first '=', pattern lower-cased. */
export function parseTensorTypeOverride(spec: string): { pattern: RegExp; type: number } {
  const eq = spec.indexOf('=');
  if (eq < 0) throw new UsageError('BAD_TENSOR_TYPE', `--tensor-type '${spec}': expected PATTERN=TYPE`);
  if (eq === 0) throw new UsageError('BAD_TENSOR_TYPE', `--tensor-type '${spec}': missing tensor name pattern`);
  const typeText = spec.slice(eq + 1);
  const t = ggmlTypeByName(typeText);
  if (!t) throw new UsageError('BAD_TENSOR_TYPE', `--tensor-type '${spec}': unknown ggml type '${typeText}'`);
  try {
    return { pattern: new RegExp(spec.slice(0, eq).toLowerCase()), type: t.id };
  } catch (err) {
    throw new UsageError('BAD_TENSOR_TYPE', `--tensor-type '${spec}': invalid regular expression (${(err as Error).message})`);
  }
}

/** A single-type flag's value as a ggml type id (undefined when the flag is not given). */
export function parseTypeFlag(flag: string, name: string | undefined): number | undefined {
  if (name === undefined) return undefined;
  const t = ggmlTypeByName(name);
  if (!t) throw new UsageError('BAD_TYPE', `${flag} '${name}': unknown ggml type`);
  return t.id;
}
