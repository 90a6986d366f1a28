/**
 * The legacy `.dat` importance matrix (tools/imatrix `save_imatrix_legacy`, read by
 * common/imatrix-loader.cpp `common_imatrix_load_legacy`), little-endian:
 *   int32 n_entries; n_entries × { int32 len; char name[len]; int32 ncall; int32 nval; float sums[nval] }
 *   then, optionally, int32 chunk_count; int32 len; char dataset[len].
 * sums hold (Σx²/count)·ncall. Every length is checked against the file size before it is used,
 * so a corrupt count cannot make us allocate more than the file holds.
 */
import { FormatError } from '../errors.ts';
import type { ByteSource } from '../io/byte-source.ts';
import type { Imatrix, ImatrixEntry } from './imatrix.ts';

export async function readLegacyImatrix(src: ByteSource, size: number): Promise<Imatrix> {
  const bytes = await src.read(0, size);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  const fail = (what: string) => new FormatError('IMATRIX_TRUNCATED', `${src.name}: not an importance matrix, or truncated: ${what} at offset ${pos} (file is ${size} bytes)`, { file: src.name, offset: pos });
  const i32 = (what: string) => {
    if (pos + 4 > size) throw fail(`no room for ${what}`);
    const v = view.getInt32(pos, true);
    pos += 4;
    return v;
  };
  const nEntries = i32('the entry count');
  if (nEntries < 1 || nEntries * 12 > size) throw fail(`entry count ${nEntries} is impossible`);
  const entries = new Map<string, ImatrixEntry>();
  for (let i = 0; i < nEntries; i++) {
    const len = i32(`the name length of entry ${i + 1}`);
    if (len < 1 || len > 4096 || pos + len > size) throw fail(`name length ${len} of entry ${i + 1}`);
    const name = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(pos, pos + len));
    pos += len;
    const ncall = i32(`ncall of '${name}'`);
    const nval = i32(`nval of '${name}'`);
    if (nval < 1 || pos + nval * 4 > size) throw fail(`value count ${nval} of '${name}'`);
    if (entries.has(name)) throw new FormatError('IMATRIX_DUPLICATE', `${src.name}: entry '${name}' appears twice`, { file: src.name, tensor: name });
    const sums = new Float32Array(nval);
    for (let j = 0; j < nval; j++) sums[j] = view.getFloat32(pos + 4 * j, true);
    pos += nval * 4;
    entries.set(name, { sums, counts: [ncall] });
  }
  let chunkCount = 0;
  const datasets: string[] = [];
  // The trailer (chunk count, dataset name) is optional, as upstream reads it.
  if (pos + 4 <= size) {
    chunkCount = i32('the chunk count');
    if (pos + 4 <= size) {
      const len = i32('the dataset name length');
      if (len > 0 && pos + len <= size) datasets.push(new TextDecoder().decode(bytes.subarray(pos, pos + len)));
    }
  }
  return { entries, datasets, chunkCount, chunkSize: 0, legacy: true };
}
