/** Read a small JSON file of a model folder, with errors that name the file. */
import { readFile } from 'node:fs/promises';
import { FormatError, fromFsError } from '../errors.ts';

export async function readJsonObject(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw fromFsError(err, path, 'read');
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new FormatError('JSON', `not valid JSON: ${(err as Error).message}`, { file: path }, { cause: err });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new FormatError('JSON', 'expected a JSON object', { file: path });
  return v as Record<string, unknown>;
}

export async function readJsonIfExists(path: string): Promise<Record<string, unknown> | null> {
  try {
    return await readJsonObject(path);
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return null;
    throw err;
  }
}
