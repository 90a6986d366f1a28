/**
 * The target screen's importance-matrix choice, as `convert --imatrix` takes it: none, `auto`
 * (computed in the same run from the default calibration corpus, so only for a local folder: the
 * pipeline refuses `auto` for an `hf:` source) or a file (llama.cpp imatrix GGUF or legacy .dat).
 * A file is checked as the CLI checks it before starting (it must exist); its format, and whether it
 * matches the model, are checked by the plan, which shows the reader's error.
 */
import { assertInputExists } from '../../cli/preflight.ts';

/** `chunks`: `--chunks` of an auto computation (unset: the CLI's default). */
export type ImatrixChoice = { kind: 'none' } | { kind: 'auto'; chunks?: number } | { kind: 'file'; path: string };

export const NO_IMATRIX: ImatrixChoice = { kind: 'none' };

/** `i` cycles none → auto → file → none; auto is skipped where the pipeline cannot compute it. */
export function nextImatrix(c: ImatrixChoice, autoAllowed: boolean): ImatrixChoice {
  if (c.kind === 'none') return autoAllowed ? { kind: 'auto' } : { kind: 'file', path: '' };
  if (c.kind === 'auto') return { kind: 'file', path: '' };
  return NO_IMATRIX;
}

/** Whether `convert --imatrix auto` can run on this source: a local model folder (not `hf:`; not a GGUF, which quantize reads, and quantize takes a file only). */
export const canComputeImatrix = (source: string | undefined) => !!source && !/^(hf:|https?:)/.test(source) && !source.toLowerCase().endsWith('.gguf');

/** The value of `--imatrix` (ConvertOptions.imatrix), or undefined for none. */
export function imatrixOption(c: ImatrixChoice): string | undefined {
  return c.kind === 'none' ? undefined : c.kind === 'auto' ? 'auto' : c.path;
}

/** The line under the list: what the choice means. */
export function imatrixText(c: ImatrixChoice, autoAllowed: boolean): string {
  if (c.kind === 'auto') return `auto: computed in the run (bundled corpus) · chunks ${c.chunks ?? 'default'} (c)`;
  if (c.kind === 'file') return `file: ${c.path || '(type a path: GGUF or .dat)'}`;
  return `none${autoAllowed ? '' : ' (auto needs a local model folder)'}`;
}

/** Null when the choice can be planned, else why not (the CLI's own message for a missing file). */
export async function imatrixProblem(c: ImatrixChoice): Promise<string | null> {
  if (c.kind !== 'file') return null;
  if (!c.path) return 'no imatrix file typed: press i until "file", then type its path';
  try {
    await assertInputExists(c.path, 'imatrix file');
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}
