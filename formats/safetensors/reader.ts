/**
 * Reading one .safetensors file: the header eagerly (it is small), tensor data lazily by byte range,
 * so a model is never loaded whole.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { FormatError, fromFsError } from '../errors.ts';
import { MAX_HEADER_BYTES, parseSafetensorsHeader, type SafetensorsFile } from './header.ts';
import type { ByteSource } from '../io/byte-source.ts';

export type { SafetensorsFile, SafetensorsTensor } from './header.ts';

/** Read and validate the header of one .safetensors file. */
export async function readSafetensorsHeader(path: string): Promise<SafetensorsFile> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw fromFsError(err, path, 'open');
  }
  try {
    return await readHeaderFrom(fh, path);
  } finally {
    await fh.close();
  }
}

/** Read the header through an already open handle (the model keeps handles open for data reads). */
export async function readHeaderFrom(fh: FileHandle, path: string): Promise<SafetensorsFile> {
  const size = (await fh.stat().catch((err) => { throw fromFsError(err, path, 'stat'); })).size;
  return readHeaderWith(path, size, (position, length) => readRange(fh, path, position, length));
}

/** Read the header of a file anywhere a ByteSource reaches (a Hub file read by ranges, say). */
export async function readSafetensorsHeaderFrom(src: ByteSource): Promise<SafetensorsFile> {
  return readHeaderWith(src.name, await src.size(), (position, length) => src.read(position, length));
}

/** The 8-byte length, its bounds (file size, 100 MB), then the JSON: two reads, never the data. */
async function readHeaderWith(path: string, size: number, read: (position: number, length: number) => Promise<Uint8Array>): Promise<SafetensorsFile> {
  if (size < 8) {
    throw new FormatError('SAFETENSORS_TRUNCATED', `file is ${size} bytes, too short for the 8-byte header length`, { file: path, offset: 0 });
  }
  const lenBytes = await read(0, 8);
  const n = new DataView(lenBytes.buffer, lenBytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new FormatError('SAFETENSORS_HEADER_SIZE', `header length ${n} at offset 0 exceeds the 100 MB limit`, { file: path, offset: 0 });
  }
  if (n + 8n > BigInt(size)) {
    throw new FormatError('SAFETENSORS_HEADER_SIZE', `header length ${n} at offset 0 runs past the end of the ${size}-byte file`, { file: path, offset: 0 });
  }
  const json = await read(8, Number(n));
  return parseSafetensorsHeader(path, json, size);
}

/**
 * Read exactly `length` bytes at `position`; a short read means the file shrank under us. With
 * `into` (≥ length bytes) they land there (a view of it is returned), so streaming callers can
 * reuse one buffer.
 */
export async function readRange(fh: FileHandle, path: string, position: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
  if (into && into.length < length) throw new RangeError(`${path}: buffer of ${into.length} bytes for a read of ${length}`);
  const out = into ? into.subarray(0, length) : new Uint8Array(length);
  let done = 0;
  while (done < length) {
    let bytesRead: number;
    try {
      ({ bytesRead } = await fh.read(out, done, length - done, position + done));
    } catch (err) {
      throw fromFsError(err, path, 'read');
    }
    if (bytesRead === 0) {
      throw new FormatError('SAFETENSORS_TRUNCATED', `unexpected end of file at offset ${position + done}`, { file: path, offset: position + done });
    }
    done += bytesRead;
  }
  return out;
}
