/**
 * Validation of a safetensors JSON header, with no I/O: every tensor's dtype, shape and byte range
 * are checked against each other and against the file's size, so later reads can trust them.
 * The layout is: u64 little-endian N, then N bytes of JSON, then the data section; each tensor's
 * `data_offsets` are relative to the start of the data section.
 */
import { FormatError, UnsupportedError } from '../errors.ts';
import { KNOWN_UNSUPPORTED_DTYPES, dtypeSize, isSafetensorsDtype, type SafetensorsDtype } from './dtypes.ts';

export interface SafetensorsTensor {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** The file holding the tensor. */
  file: string;
  /** Absolute byte offsets in `file` (data section start already added): [begin, end). */
  begin: number;
  end: number;
}

export interface SafetensorsFile {
  path: string;
  metadata: Record<string, string> | null;
  /** In data order (ascending offset), which is the order a streaming reader should visit them. */
  tensors: Map<string, SafetensorsTensor>;
  /** N, the byte length of the JSON header; tensor data starts at 8 + headerSize. */
  headerSize: number;
}

/** The Python and Rust libraries refuse headers above 100 MB; so do we, before allocating them. */
export const MAX_HEADER_BYTES = 100_000_000;

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Parse and check the JSON header of `file` (whose total size is `fileSize`). */
export function parseSafetensorsHeader(file: string, json: Uint8Array, fileSize: number): SafetensorsFile {
  const headerSize = json.length;
  const dataStart = 8 + headerSize;
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch (err) {
    throw new FormatError('SAFETENSORS_JSON', `header (bytes 8..${dataStart}) is not valid UTF-8 JSON: ${(err as Error).message}`, { file, offset: 8 }, { cause: err });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new FormatError('SAFETENSORS_JSON', 'header at offset 8 is not a JSON object', { file, offset: 8 });
  }

  let metadata: Record<string, string> | null = null;
  const tensors: SafetensorsTensor[] = [];
  for (const [name, entry] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = checkMetadata(file, entry);
      continue;
    }
    tensors.push(checkEntry(file, name, entry, dataStart, fileSize));
  }

  // Ranges may leave gaps (we tolerate those) but must never share bytes.
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < tensors.length; i++) {
    const prev = tensors[i - 1];
    const cur = tensors[i];
    if (cur.begin < prev.end) {
      throw new FormatError('SAFETENSORS_OVERLAP',
        `tensor '${cur.name}' (bytes ${cur.begin}..${cur.end}) overlaps tensor '${prev.name}' (bytes ${prev.begin}..${prev.end}) at offset ${cur.begin}`,
        { file, tensor: cur.name, offset: cur.begin });
    }
  }
  return { path: file, metadata, tensors: new Map(tensors.map((t) => [t.name, t])), headerSize };
}

function checkMetadata(file: string, entry: unknown): Record<string, string> {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw new FormatError('SAFETENSORS_METADATA', '__metadata__ must be an object of strings', { file, offset: 8 });
  }
  for (const [k, v] of Object.entries(entry)) {
    if (typeof v !== 'string') {
      throw new FormatError('SAFETENSORS_METADATA', `__metadata__ value for '${k}' is not a string`, { file, offset: 8 });
    }
  }
  return { ...(entry as Record<string, string>) };
}

function checkEntry(file: string, name: string, entry: unknown, dataStart: number, fileSize: number): SafetensorsTensor {
  const where = { file, tensor: name };
  const bad = (code: string, msg: string, offset?: number): never => {
    throw new FormatError(code, `tensor '${name}': ${msg}`, offset === undefined ? where : { ...where, offset });
  };
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) bad('SAFETENSORS_ENTRY', 'header entry is not an object');
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;

  if (!isSafetensorsDtype(dtype)) {
    if (typeof dtype === 'string' && KNOWN_UNSUPPORTED_DTYPES.includes(dtype)) {
      throw new UnsupportedError('SAFETENSORS_DTYPE', `tensor '${name}': dtype ${dtype} is not supported`, where);
    }
    bad('SAFETENSORS_DTYPE', `unknown dtype ${JSON.stringify(dtype)}`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    bad('SAFETENSORS_SHAPE', `shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
    bad('SAFETENSORS_OFFSETS', `data_offsets ${JSON.stringify(offsets)} is not a pair [begin, end] with 0 <= begin <= end`);
  }
  const [rel0, rel1] = offsets as [number, number];
  const begin = dataStart + rel0;
  const end = dataStart + rel1;
  const expected = elementCount(shape as number[]) * dtypeSize(dtype as SafetensorsDtype);
  if (rel1 - rel0 !== expected) {
    bad('SAFETENSORS_SIZE', `shape ${JSON.stringify(shape)} of ${dtype} needs ${expected} bytes but data_offsets [${rel0}, ${rel1}] span ${rel1 - rel0} (offset ${begin})`, begin);
  }
  if (end > fileSize) {
    bad('SAFETENSORS_RANGE', `data (bytes ${begin}..${end}) lies outside the file of ${fileSize} bytes (offset ${begin})`, begin);
  }
  return { name, dtype: dtype as SafetensorsDtype, shape: [...(shape as number[])], file, begin, end };
}
