/**
 * GGUF reader (the checks of ggml's gguf.cpp `gguf_init_from_file_impl`, plus bounds checks
 * against the real file size). Only the header is read; tensor data is read on demand, by
 * offset, with readTensorBytes.
 *
 * Why not @huggingface/gguf here: it zero-fills reads past the end of the file, keeps the last
 * of two duplicate keys, accepts versions 1 and 2-with-v1-layout and byte-swapped files, and
 * cannot say at which offset a file is broken. It is used as an independent oracle in the tests
 * (test/gguf-roundtrip.test.ts, test/inspect.test.ts) instead; test/gguf-hf-laxity.test.ts
 * shows it accepting those malformed files.
 */
import { openSource, type ByteSource } from '../io/byte-source.ts';
import { FormatError, UsageError } from '../errors.ts';
import { ggmlType, rowSize } from '../../kernels/ggml-types.ts';
import { HeaderCursor } from './header-cursor.ts';
import { readString, readValue, type GgufLazyValue, type ReadValueOptions } from './read-value.ts';
import { GgufValueType, type GgufKv } from './value-types.ts';

/** A key/value as read with `lazyStrings`: string arrays are GgufStringArray (string-array.ts). */
export type GgufLazyKv = { key: string } & GgufLazyValue;

export const GGUF_MAGIC = 0x46554747; // "GGUF" little-endian
export const GGUF_DEFAULT_ALIGNMENT = 32;
export const GGML_MAX_DIMS = 4;
/** GGML_MAX_NAME, including the terminating NUL. */
export const GGML_MAX_NAME = 64;

export interface GgufTensorInfo {
  name: string;
  /** GGUF order: ne[0] is the row length. */
  ne: number[];
  /** ggml type id (kernels/ggml-types.ts). */
  type: number;
  /** Relative to the data section start (GgufFile.dataOffset). */
  offset: number;
  nbytes: number;
}

export interface GgufFile<Kv = GgufKv> {
  source: string;
  version: number;
  /** In file order. */
  kvs: Kv[];
  /** In file order. */
  tensors: GgufTensorInfo[];
  alignment: number;
  /** Absolute offset of the tensor data section. */
  dataOffset: number;
  fileSize: number;
}

export const padTo = (n: number, align: number): number => Math.ceil(n / align) * align;

export function getKv(file: GgufFile, key: string): GgufKv | undefined {
  return file.kvs.find((kv) => kv.key === key);
}

/**
 * Reads and validates a GGUF header from a path, URL or open ByteSource. With `lazyStrings`,
 * string arrays stay encoded until read (same checks, same errors): for readers that show a
 * vocabulary's size and head rather than use every token.
 */
export async function readGguf(src: string | ByteSource): Promise<GgufFile>;
export async function readGguf(src: string | ByteSource, opts: ReadValueOptions & { lazyStrings: true }): Promise<GgufFile<GgufLazyKv>>;
export async function readGguf(src: string | ByteSource, opts: ReadValueOptions = {}): Promise<GgufFile<GgufLazyKv>> {
  if (typeof src !== 'string') return readFrom(src, opts);
  const s = await openSource(src);
  try {
    return await readFrom(s, opts);
  } finally {
    await s.close();
  }
}

async function readFrom(src: ByteSource, opts: ReadValueOptions): Promise<GgufFile<GgufLazyKv>> {
  const c = new HeaderCursor(src, await src.size());
  const version = await readPreamble(c);
  await c.need(16, 'tensor and key/value counts');
  const nTensors = c.u64();
  const nKv = c.u64();
  // Smallest records: a KV is key length + type + 1 byte; a tensor info is 8 + 4 + 4 + 8.
  if (nKv * 13n > BigInt(c.remaining)) throw c.fail('BAD_COUNT', `key/value count ${nKv} cannot fit in the ${c.remaining} bytes after the header`, 16);
  if (nTensors * 24n > BigInt(c.remaining)) throw c.fail('BAD_COUNT', `tensor count ${nTensors} cannot fit in the ${c.remaining} bytes after the header`, 8);

  const kvs = await readKvs(c, Number(nKv), opts);
  const alignment = alignmentOf(c, kvs);
  const tensors: GgufTensorInfo[] = [];
  const names = new Set<string>();
  for (let i = 0; i < Number(nTensors); i++) {
    const t = await readTensorInfo(c, i);
    if (names.has(t.name)) throw c.fail('DUPLICATE_TENSOR', `duplicate tensor name '${t.name}'`, c.pos, t.name);
    names.add(t.name);
    tensors.push(t);
  }
  const dataOffset = padTo(c.pos, alignment);
  checkLayout(c, tensors, alignment, dataOffset);
  return { source: src.name, version, kvs, tensors, alignment, dataOffset, fileSize: c.fileSize };
}

async function readPreamble(c: HeaderCursor): Promise<number> {
  await c.need(8, 'GGUF magic and version');
  const magic = c.u32();
  if (magic !== GGUF_MAGIC) {
    const shown = [...new Uint8Array(new Uint32Array([magic]).buffer)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    throw c.fail('BAD_MAGIC', `not a GGUF file: bad magic (bytes ${shown}, expected 47 47 55 46 "GGUF") at offset 0`, 0);
  }
  const version = c.u32();
  if ((version & 0xffff) === 0 && version !== 0) {
    throw c.fail('BIG_ENDIAN', `GGUF version field ${version} looks byte-swapped (a big-endian GGUF); only little-endian files are supported`, 4);
  }
  if (version === 1) throw c.fail('BAD_VERSION', 'GGUF version 1 is no longer supported (offset 4)', 4);
  if (version < 2 || version > 3) throw c.fail('BAD_VERSION', `unsupported GGUF version ${version} at offset 4 (expected 2 or 3)`, 4);
  return version;
}

async function readKvs(c: HeaderCursor, n: number, opts: ReadValueOptions): Promise<GgufLazyKv[]> {
  const kvs: GgufLazyKv[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const at = c.pos;
    const key = await readString(c, `key #${i}`);
    if (key.length === 0) throw c.fail('EMPTY_KEY', `key #${i} at offset ${at} is empty`, at);
    if (seen.has(key)) throw c.fail('DUPLICATE_KEY', `duplicate key '${key}' at offset ${at}`, at);
    seen.add(key);
    kvs.push({ key, ...(await readValue(c, `key '${key}'`, opts)) } as GgufLazyKv);
  }
  return kvs;
}

function alignmentOf(c: HeaderCursor, kvs: GgufLazyKv[]): number {
  const kv = kvs.find((k) => k.key === 'general.alignment');
  if (!kv) return GGUF_DEFAULT_ALIGNMENT;
  const v = kv.value;
  if (kv.type !== GgufValueType.UINT32 || typeof v !== 'number' || v === 0 || (v & (v - 1)) !== 0) {
    throw c.fail('BAD_ALIGNMENT', `general.alignment must be a non-zero power of two stored as UINT32, got ${GgufValueType[kv.type]} ${String(v)}`);
  }
  return v;
}

async function readTensorInfo(c: HeaderCursor, i: number): Promise<GgufTensorInfo> {
  const at = c.pos;
  const name = await readString(c, `name of tensor #${i}`);
  if (Buffer.byteLength(name) >= GGML_MAX_NAME) throw c.fail('BAD_TENSOR', `tensor #${i} name '${name}' is ${Buffer.byteLength(name)} bytes; the limit is ${GGML_MAX_NAME - 1}`, at, name);
  await c.need(4, `n_dims of tensor '${name}'`);
  const nDims = c.u32();
  if (nDims > GGML_MAX_DIMS) throw c.fail('BAD_TENSOR', `tensor '${name}' has ${nDims} dimensions; at most ${GGML_MAX_DIMS} are allowed`, c.pos - 4, name);
  await c.need(8 * nDims + 12, `shape, type and offset of tensor '${name}'`);
  const ne: bigint[] = [];
  for (let d = 0; d < nDims; d++) ne.push(c.i64());
  const typeAt = c.pos;
  const typeId = c.u32();
  const offset = c.u64();
  const t = ggmlType(typeId);
  if (!t) throw c.fail('BAD_TENSOR', `tensor '${name}' has unknown ggml type id ${typeId}`, typeAt, name);
  let count = 1n;
  for (const [d, n] of ne.entries()) {
    if (n < 0n) throw c.fail('BAD_TENSOR', `tensor '${name}' has negative dimension ne[${d}]=${n}`, at, name);
    count *= n;
  }
  // gguf.cpp requires the element count and the byte size to fit in int64; we also need them as JS numbers.
  if (count > BigInt(Number.MAX_SAFE_INTEGER)) throw c.fail('BAD_TENSOR', `tensor '${name}' shape [${ne.join(', ')}] overflows: ${count} elements`, at, name);
  const nes = ne.map(Number);
  if ((nes[0] ?? 1) % t.blockSize !== 0) {
    throw c.fail('BAD_TENSOR', `tensor '${name}' of type ${t.name} has ne[0]=${nes[0]}, not a multiple of the block size ${t.blockSize}`, at, name);
  }
  const nbytes = count === 0n ? 0 : rowSize(t, nes[0] ?? 1) * (Number(count) / (nes[0] ?? 1));
  if (offset > BigInt(Number.MAX_SAFE_INTEGER)) throw c.fail('BAD_OFFSET', `tensor '${name}' has offset ${offset}, beyond any file`, typeAt + 4, name);
  return { name, ne: nes, type: typeId, offset: Number(offset), nbytes };
}

/** gguf.cpp: each tensor starts at the padded end of the previous one, and all of it lies in the file. */
function checkLayout(c: HeaderCursor, tensors: GgufTensorInfo[], alignment: number, dataOffset: number): void {
  let expected = 0;
  for (const t of tensors) {
    if (t.offset % alignment !== 0) {
      throw c.fail('BAD_OFFSET', `tensor '${t.name}' data offset ${t.offset} is not a multiple of the alignment ${alignment}`, dataOffset + t.offset, t.name);
    }
    if (t.offset !== expected) {
      throw c.fail('BAD_OFFSET', `tensor '${t.name}' has data offset ${t.offset}, expected ${expected} (tensors must be consecutive in info order)`, dataOffset + t.offset, t.name);
    }
    expected = padTo(t.offset + t.nbytes, alignment);
  }
  const last = tensors[tensors.length - 1];
  if (last && dataOffset + last.offset + last.nbytes > c.fileSize) {
    throw c.fail('TRUNCATED', `truncated: tensor '${last.name}' data ends at offset ${dataOffset + last.offset + last.nbytes} but the file is ${c.fileSize} bytes`, dataOffset + last.offset, last.name);
  }
}

/** Byte size of one row (ne[0] elements) of a tensor. */
export function tensorRowBytes(t: GgufTensorInfo): number {
  return rowSize(ggmlType(t.type)!, t.ne[0] ?? 1);
}

/** Number of rows: ne[1..] flattened. */
export function tensorRows(t: GgufTensorInfo): number {
  return t.ne.slice(1).reduce((a, b) => a * b, 1);
}

/**
 * Reads whole rows of a tensor by offset; never the whole file. With `into` (≥ the rows' bytes) and
 * a source that can read into a buffer, the bytes land there and a view of `into` is returned.
 */
export async function readTensorBytes(src: ByteSource, file: GgufFile, t: GgufTensorInfo, rowStart = 0, rowCount?: number, into?: Uint8Array): Promise<Uint8Array> {
  const rows = tensorRows(t);
  const count = rowCount ?? rows - rowStart;
  if (!Number.isInteger(rowStart) || !Number.isInteger(count) || rowStart < 0 || count < 0 || rowStart + count > rows) {
    throw new UsageError('BAD_ROWS', `${file.source}: tensor '${t.name}' has ${rows} rows; cannot read ${count} rows from row ${rowStart}`, { file: file.source, tensor: t.name });
  }
  const rb = tensorRowBytes(t);
  const at = file.dataOffset + t.offset + rowStart * rb;
  try {
    if (!into || !src.readInto) return await src.read(at, count * rb);
    if (into.length < count * rb) throw new RangeError(`tensor '${t.name}': buffer of ${into.length} bytes for ${count * rb} bytes of rows`);
    const view = into.subarray(0, count * rb);
    await src.readInto(at, view);
    return view;
  } catch (err) {
    if (err instanceof FormatError) throw new FormatError('TRUNCATED', `truncated: tensor '${t.name}' data at offset ${at} runs past the end of the file`, { file: file.source, tensor: t.name, offset: at }, { cause: err });
    throw err;
  }
}
