/** Opens a model for the forward from a path: a GGUF file, or an HF / AWQ / GPTQ folder. */
import { stat } from 'node:fs/promises';
import { fromFsError } from '../../formats/errors.ts';
import { openGgufWeights } from './gguf-weights.ts';
import { openHfWeights } from './hf-weights.ts';
import type { ModelWeights } from './weights.ts';

export async function openModelWeights(path: string): Promise<ModelWeights> {
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (err) {
    throw fromFsError(err, path, 'open model');
  }
  return isDir ? openHfWeights(path) : openGgufWeights(path);
}
