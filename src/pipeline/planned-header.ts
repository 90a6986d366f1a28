/**
 * The input header a quantize plan was made from, kept for the plan's execution: parsing it a
 * second time cost 15–20 ms of a sub-second job. It is reused only while the input is still the
 * file that was planned: same device, inode, size and modification time. The plan stats the path
 * before it reads, the execution after it opens, so a file replaced in between never pairs one
 * file's header with another's bytes: it is read again from the open descriptor.
 */
import { stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import type { GgufFile } from '../../formats/gguf/reader.ts';

const identity = (st: Stats) => `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
const headers = new WeakMap<object, { file: GgufFile; id: string }>();

/** The path's identity now (call before reading the header it will vouch for); undefined if it cannot be read. */
export async function statForHeader(path: string): Promise<Stats | undefined> {
  return stat(path).catch(() => undefined);
}

export function rememberHeader(plan: object, file: GgufFile, before: Stats | undefined): void {
  if (before) headers.set(plan, { file, id: identity(before) });
}

/** The plan's header if `path` (already opened by the caller) is still the planned file, else undefined. */
export async function plannedHeader(plan: object, path: string): Promise<GgufFile | undefined> {
  const kept = headers.get(plan);
  if (!kept) return undefined;
  const now = await statForHeader(path);
  return now && identity(now) === kept.id ? kept.file : undefined;
}
