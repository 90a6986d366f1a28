/**
 * The resume marker of a batch job: `<output>.report.json`, written only after the job succeeded,
 * with `complete: true`. `--skip-existing` trusts an output only when its marker says complete and
 * the output is still there with the size the marker recorded, so an interrupted batch resumes
 * where it stopped and a half-done or replaced output is redone.
 */
import { readFile, stat } from 'node:fs/promises';
import { writeFileAtomic } from '../../formats/io/atomic-file.ts';

export const reportPathFor = (output: string): string => `${output}.report.json`;

export async function isComplete(output: string): Promise<boolean> {
  let marker: { complete?: unknown; outputBytes?: unknown };
  try {
    marker = JSON.parse(await readFile(reportPathFor(output), 'utf8'));
  } catch {
    return false;
  }
  if (marker?.complete !== true) return false;
  const st = await stat(output).catch(() => null);
  if (!st) return false;
  return !st.isFile() || typeof marker.outputBytes !== 'number' || st.size === marker.outputBytes;
}

export async function outputExists(output: string): Promise<boolean> {
  return (await stat(output).catch(() => null)) !== null;
}

/** Written through the atomic path (temporary name, renamed), so a marker is never half-written. */
export async function writeCompletion(output: string, data: Record<string, unknown>): Promise<void> {
  await writeFileAtomic(reportPathFor(output), JSON.stringify({ complete: true, ...data }, null, 2) + '\n');
}
