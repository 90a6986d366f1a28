import fs from 'node:fs/promises';
import path from 'node:path';
import { FormatError, fromFsError } from '../errors.ts';

/** Read and parse a JSON file of a model folder; null when `optional` and the file is absent. */
export async function readJsonFile(dir: string, name: string, optional: true): Promise<Record<string, any> | null>;
export async function readJsonFile(dir: string, name: string, optional?: false): Promise<Record<string, any>>;
export async function readJsonFile(dir: string, name: string, optional = false): Promise<Record<string, any> | null> {
  const file = path.join(dir, name);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if (optional && (err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw fromFsError(err, file, 'read');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new FormatError('INVALID_JSON', `${file}: invalid JSON: ${(err as Error).message}`, { file }, { cause: err });
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new FormatError('INVALID_JSON', `${file}: expected a JSON object at the top level`, { file });
  }
  return value as Record<string, any>;
}

export async function fileExists(file: string): Promise<boolean> {
  try {
    return (await fs.stat(file)).isFile();
  } catch {
    return false;
  }
}
