/**
 * Reads an importance matrix in either form llama.cpp reads (common/imatrix-loader.cpp
 * `common_imatrix_load`): a GGUF file with `<name>.in_sum2` / `<name>.counts` F32 tensors, else
 * the legacy `.dat` layout. Stricter than upstream where upstream would quantize with garbage: a
 * non-finite or negative value, a missing half of a pair, or sums that do not split evenly over
 * the counts are FormatErrors naming the file and the entry.
 */
import { FormatError } from '../errors.ts';
import { openSource, type ByteSource } from '../io/byte-source.ts';
import { getKv, readGguf, readTensorBytes, GGUF_MAGIC, type GgufFile } from '../gguf/reader.ts';
import { GgufValueType } from '../gguf/value-types.ts';
import { COUNTS_SUFFIX, IMATRIX_KEYS, SUMS_SUFFIX, type Imatrix, type ImatrixEntry } from './imatrix.ts';
import { readLegacyImatrix } from './read-dat.ts';

export async function readImatrix(path: string): Promise<Imatrix> {
  const src = await openSource(path);
  try {
    const size = await src.size();
    const head = size >= 4 ? new DataView((await src.read(0, 4)).buffer.slice(0)).getUint32(0, true) : 0;
    const m = head === GGUF_MAGIC ? await fromGguf(src) : await readLegacyImatrix(src, size);
    checkValues(src.name, m);
    return m;
  } finally {
    await src.close();
  }
}

async function fromGguf(src: ByteSource): Promise<Imatrix> {
  const file = await readGguf(src);
  const where = { file: src.name };
  const type = getKv(file, IMATRIX_KEYS.type);
  if (type && type.value !== 'imatrix') {
    throw new FormatError('NOT_IMATRIX', `${src.name} is a GGUF ${String(type.value)} file, not an importance matrix (general.type = '${String(type.value)}')`, where);
  }
  const pairs = new Map<string, { sums?: GgufFile['tensors'][number]; counts?: GgufFile['tensors'][number] }>();
  for (const t of file.tensors) {
    const [base, half] = t.name.endsWith(SUMS_SUFFIX) ? [t.name.slice(0, -SUMS_SUFFIX.length), 'sums' as const]
      : t.name.endsWith(COUNTS_SUFFIX) ? [t.name.slice(0, -COUNTS_SUFFIX.length), 'counts' as const] : [undefined, undefined];
    if (!base || !half) continue;
    const p = pairs.get(base) ?? {};
    p[half] = t;
    pairs.set(base, p);
  }
  if (pairs.size === 0) throw new FormatError('EMPTY_IMATRIX', `${src.name} holds no importance matrix entries (no *.in_sum2 tensors)`, where);
  const entries = new Map<string, ImatrixEntry>();
  for (const [name, p] of [...pairs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!p.sums || !p.counts) throw new FormatError('IMATRIX_PAIR', `${src.name}: entry '${name}' has ${p.sums ? 'sums but no counts' : 'counts but no sums'}`, { ...where, tensor: name });
    if (p.sums.type !== 0 || p.counts.type !== 0) throw new FormatError('IMATRIX_TYPE', `${src.name}: sums and counts of '${name}' must be F32`, { ...where, tensor: name });
    const sums = f32(await readTensorBytes(src, file, p.sums));
    const counts = Array.from(f32(await readTensorBytes(src, file, p.counts)), (c) => Math.round(c));
    if (counts.length === 0 || sums.length % counts.length !== 0) {
      throw new FormatError('IMATRIX_SHAPE', `${src.name}: '${name}' has ${sums.length} sums for ${counts.length} counts (not a whole row per expert)`, { ...where, tensor: name });
    }
    entries.set(name, { sums, counts });
  }
  const datasets = getKv(file, IMATRIX_KEYS.datasets);
  const chunkCount = getKv(file, IMATRIX_KEYS.chunkCount);
  const chunkSize = getKv(file, IMATRIX_KEYS.chunkSize);
  if (!datasets || !chunkCount || !chunkSize) {
    // llama-quantize's load_imatrix: "missing imatrix metadata in file …"
    throw new FormatError('IMATRIX_METADATA', `${src.name}: missing imatrix metadata (${[IMATRIX_KEYS.datasets, IMATRIX_KEYS.chunkCount, IMATRIX_KEYS.chunkSize].filter((k) => !getKv(file, k)).join(', ')})`, where);
  }
  return {
    entries,
    datasets: datasets.type === GgufValueType.ARRAY ? (datasets.value as unknown[]).map(String) : [],
    chunkCount: Number(chunkCount.value),
    chunkSize: Number(chunkSize.value),
    legacy: false,
  };
}

function f32(bytes: Uint8Array): Float32Array {
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** llama-quantize refuses non-finite values ("imatrix contains non-finite value"); so do we, earlier. */
function checkValues(file: string, m: Imatrix): void {
  for (const [name, e] of m.entries) {
    for (let i = 0; i < e.sums.length; i++) {
      const v = e.sums[i]!;
      if (!Number.isFinite(v) || v < 0) {
        throw new FormatError('IMATRIX_VALUE', `${file}: entry '${name}' has ${Number.isFinite(v) ? 'a negative' : 'a non-finite'} value ${v} at column ${i} (a sum of squares must be finite and ≥ 0)`, { file, tensor: name });
      }
    }
    if (e.counts.some((c) => !Number.isFinite(c) || c < 0)) throw new FormatError('IMATRIX_VALUE', `${file}: entry '${name}' has an invalid count`, { file, tensor: name });
  }
}
