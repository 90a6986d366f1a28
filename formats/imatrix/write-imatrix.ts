/**
 * Writes an importance matrix the way `llama-imatrix` does (tools/imatrix `save_imatrix` and
 * `save_imatrix_legacy`), through a temporary file renamed on completion.
 *
 * GGUF: keys `general.type = "imatrix"`, `imatrix.datasets` (string array), `imatrix.chunk_count`
 * and `imatrix.chunk_size` (UINT32), in that order; then, for every entry in byte order of its name,
 * `<name>.in_sum2` (F32, ne = [ne0, nExperts]) and `<name>.counts` (F32, ne = [1, nExperts]), with
 * trailing 1-dims dropped as gguf.cpp writes them (ggml_n_dims).
 * `.dat`: see read-dat.ts; sums are stored as (Σx²/count)·ncall with ncall = ⌈max count / chunk size⌉.
 */
import { createAtomicFile } from '../io/atomic-file.ts';
import { GgufWriter } from '../gguf/writer.ts';
import { GgufValueType, arr, str, u32 } from '../gguf/value-types.ts';
import { COUNTS_SUFFIX, IMATRIX_KEYS, SUMS_SUFFIX, entryColumns, type Imatrix } from './imatrix.ts';

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The raw (GGUF-form) sums and counts; a legacy matrix is rescaled by chunkSize as llama-imatrix's loader does. */
function rawForm(m: Imatrix, chunkSize: number): Imatrix {
  if (!m.legacy) return m;
  const entries = new Map([...m.entries].map(([name, e]) => [name, {
    sums: Float32Array.from(e.sums, (v) => Math.fround(v * chunkSize)),
    counts: e.counts.map((c) => c * chunkSize),
  }]));
  return { ...m, entries, chunkSize, legacy: false };
}

export async function writeImatrixGguf(path: string, input: Imatrix, opts: { force?: boolean; chunkSize?: number } = {}): Promise<void> {
  const m = rawForm(input, opts.chunkSize ?? (input.chunkSize || 512));
  const out = await createAtomicFile(path, { force: opts.force });
  const w = await GgufWriter.open(out.tmpPath);
  try {
    w.addKv(IMATRIX_KEYS.type, str('imatrix'));
    w.addKv(IMATRIX_KEYS.datasets, arr(GgufValueType.STRING, m.datasets));
    w.addKv(IMATRIX_KEYS.chunkCount, u32(m.chunkCount));
    w.addKv(IMATRIX_KEYS.chunkSize, u32(m.chunkSize));
    const names = [...m.entries.keys()].sort(byName);
    for (const name of names) {
      const e = m.entries.get(name)!;
      const nExperts = e.counts.length;
      w.addTensor(name + SUMS_SUFFIX, nExperts > 1 ? [entryColumns(e), nExperts] : [entryColumns(e)], 0);
      w.addTensor(name + COUNTS_SUFFIX, nExperts > 1 ? [1, nExperts] : [1], 0);
    }
    await w.writeHeader();
    for (const name of names) {
      const e = m.entries.get(name)!;
      await w.writeTensorData(name + SUMS_SUFFIX, new Uint8Array(e.sums.buffer, e.sums.byteOffset, e.sums.byteLength));
      await w.writeTensorData(name + COUNTS_SUFFIX, new Uint8Array(Float32Array.from(e.counts).buffer));
    }
    await w.finish();
    await out.commit();
  } catch (err) {
    await w.abort();
    await out.abort();
    throw err;
  }
}

export async function writeImatrixDat(path: string, input: Imatrix, opts: { force?: boolean } = {}): Promise<void> {
  const chunkSize = input.chunkSize || 512;
  const m = rawForm(input, chunkSize);
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  const i32 = (v: number) => { const b = new Uint8Array(4); new DataView(b.buffer).setInt32(0, v, true); parts.push(b); };
  const names = [...m.entries.keys()].filter((n) => m.entries.get(n)!.counts.some((c) => c > 0)).sort(byName);
  i32(names.length);
  for (const name of names) {
    const e = m.entries.get(name)!;
    const nameBytes = enc.encode(name);
    i32(nameBytes.length);
    parts.push(nameBytes);
    const ncall = Math.floor((Math.max(...e.counts) + (chunkSize - 1)) / chunkSize);
    i32(ncall);
    i32(e.sums.length);
    const ne0 = entryColumns(e);
    const vals = new Float32Array(e.sums.length);
    for (let i = 0; i < vals.length; i++) {
      const count = Math.fround(e.counts[Math.floor(i / ne0)]!);
      // An expert with no tokens stores 1 ("store 1 for partial data").
      vals[i] = count === 0 ? ncall : Math.fround(Math.fround(e.sums[i]! / count) * ncall);
    }
    parts.push(new Uint8Array(vals.buffer));
  }
  i32(m.chunkCount);
  const dataset = enc.encode(m.datasets[m.datasets.length - 1] ?? '');
  i32(dataset.length);
  parts.push(dataset);
  const out = await createAtomicFile(path, { force: opts.force });
  try {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(out.tmpPath, Buffer.concat(parts));
    await out.commit();
  } catch (err) {
    await out.abort();
    throw err;
  }
}
