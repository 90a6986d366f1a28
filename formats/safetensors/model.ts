/**
 * A model folder's safetensors weights as one lazy tensor table, whether a single file or shards.
 * File handles stay open until close(); data is read per tensor or per row range on demand.
 */
import { readdir, open, access, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { FormatError, fromFsError } from '../errors.ts';
import { INDEX_FILE_NAME, readSafetensorsIndex } from './index-json.ts';
import { readHeaderFrom, readRange, type SafetensorsFile, type SafetensorsTensor } from './reader.ts';

export interface SafetensorsModel {
  dir: string;
  /** Paths (dir joined with file name) of the files read, in sorted order. */
  files: string[];
  /** Every tensor, files in sorted order and each file's tensors in data order. */
  tensors: Map<string, SafetensorsTensor>;
  /** Per-file headers (metadata such as {"format": "pt"} lives here). */
  headers: SafetensorsFile[];
  readTensor(name: string): Promise<Uint8Array>;
  /** Raw bytes of rows [rowStart, rowStart + rowCount) along dim 0; into `into` (a view of it is returned) when given. */
  readRows(name: string, rowStart: number, rowCount: number, into?: Uint8Array): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** Open `dir`: shards listed by model.safetensors.index.json if present, else model*.safetensors sorted. */
export async function openSafetensorsModel(dir: string): Promise<SafetensorsModel> {
  const indexPath = join(dir, INDEX_FILE_NAME);
  const index = (await exists(indexPath)) ? await readSafetensorsIndex(indexPath) : null;
  let names: string[];
  if (index) {
    names = index.shards;
    for (const shard of names) {
      if (!(await exists(join(dir, shard)))) {
        const tensor = [...index.weightMap].find(([, s]) => s === shard)![0];
        throw new FormatError('SAFETENSORS_SHARD_MISSING', `names shard '${shard}' (for tensor '${tensor}'), which does not exist in ${dir}`, { file: indexPath, tensor });
      }
    }
  } else {
    let entries: string[];
    try {
      entries = await readdir(dir);
    } catch (err) {
      throw fromFsError(err, dir, 'list');
    }
    names = entries.filter((f) => f.startsWith('model') && f.endsWith('.safetensors')).sort();
    if (names.length === 0) {
      throw new FormatError('SAFETENSORS_NONE', `no ${INDEX_FILE_NAME} and no model*.safetensors files`, { file: dir });
    }
  }

  const handles: FileHandle[] = [];
  const closeAll = () => Promise.all(handles.map((h) => h.close().catch(() => undefined))).then(() => undefined);
  try {
    const headers: SafetensorsFile[] = [];
    const tensors = new Map<string, SafetensorsTensor>();
    const handleOf = new Map<string, FileHandle>();
    for (const name of names) {
      const path = join(dir, name);
      const fh = await open(path, 'r').catch((err) => { throw fromFsError(err, path, 'open'); });
      handles.push(fh);
      handleOf.set(path, fh);
      const header = await readHeaderFrom(fh, path);
      headers.push(header);
      for (const t of header.tensors.values()) {
        const prior = tensors.get(t.name);
        if (prior) {
          throw new FormatError('SAFETENSORS_DUPLICATE', `tensor '${t.name}' appears in both ${prior.file} and ${path}`, { file: path, tensor: t.name });
        }
        tensors.set(t.name, t);
      }
    }
    if (index) {
      for (const [tensor, shard] of index.weightMap) {
        const found = tensors.get(tensor);
        if (!found || found.file !== join(dir, shard)) {
          throw new FormatError('SAFETENSORS_INDEX_TENSOR', `maps tensor '${tensor}' to shard '${shard}', which does not contain it`, { file: indexPath, tensor });
        }
      }
    }
    return new LazyModel(dir, names.map((n) => join(dir, n)), tensors, headers, handleOf, closeAll);
  } catch (err) {
    await closeAll();
    throw err;
  }
}

class LazyModel implements SafetensorsModel {
  constructor(
    readonly dir: string,
    readonly files: string[],
    readonly tensors: Map<string, SafetensorsTensor>,
    readonly headers: SafetensorsFile[],
    private readonly handles: Map<string, FileHandle>,
    private readonly closeAll: () => Promise<void>,
  ) {}

  private find(name: string): SafetensorsTensor {
    const t = this.tensors.get(name);
    if (!t) throw new FormatError('SAFETENSORS_NO_TENSOR', `model has no tensor '${name}'`, { file: this.dir, tensor: name });
    return t;
  }

  async readTensor(name: string): Promise<Uint8Array> {
    const t = this.find(name);
    return readRange(this.handles.get(t.file)!, t.file, t.begin, t.end - t.begin);
  }

  async readRows(name: string, rowStart: number, rowCount: number, into?: Uint8Array): Promise<Uint8Array> {
    const t = this.find(name);
    const rows = t.shape.length === 0 ? 1 : t.shape[0];
    if (!Number.isSafeInteger(rowStart) || !Number.isSafeInteger(rowCount) || rowStart < 0 || rowCount < 0 || rowStart + rowCount > rows) {
      throw new RangeError(`tensor '${name}' has ${rows} rows; cannot read ${rowCount} rows from row ${rowStart}`);
    }
    const size = rowBytes(t);
    return readRange(this.handles.get(t.file)!, t.file, t.begin + rowStart * size, rowCount * size, into);
  }

  async close(): Promise<void> {
    await this.closeAll();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Bytes per row along dim 0, handy for callers that size their read chunks. */
export function rowBytes(t: SafetensorsTensor): number {
  const rows = t.shape.length === 0 ? 1 : t.shape[0];
  return rows === 0 ? 0 : (t.end - t.begin) / rows;
}
