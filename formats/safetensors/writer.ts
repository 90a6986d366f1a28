/**
 * Streaming .safetensors writer. Every tensor's dtype and shape are declared up front, so the header
 * (and each tensor's offsets) can be written first; data then arrives in chunks, tensor by tensor in
 * declared order, and never has to be held whole. The file is written under a temporary name and
 * renamed on finish(), so a failure or abort() leaves no partial file.
 */
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { fromFsError } from '../errors.ts';
import { dtypeSize, isSafetensorsDtype, type SafetensorsDtype } from './dtypes.ts';
import { elementCount } from './header.ts';

export interface TensorDecl {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
}

/** Small chunks (biases, norms) are gathered up to this size before a write() call. */
const STAGING_BYTES = 1 << 20;

/**
 * The header bytes for `tensors` laid out back to back in declared order: `__metadata__` first,
 * then the tensors; padded with spaces to a multiple of 8 like the Python library, so data is aligned.
 */
export function encodeSafetensorsHeader(tensors: readonly TensorDecl[], metadata?: Record<string, string>): { header: Uint8Array; sizes: number[] } {
  const entries: Record<string, unknown> = {};
  if (metadata) entries.__metadata__ = metadata;
  const sizes: number[] = [];
  let offset = 0;
  for (const t of tensors) {
    if (!isSafetensorsDtype(t.dtype)) throw new RangeError(`tensor '${t.name}': unknown dtype ${String(t.dtype)}`);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new RangeError(`tensor '${t.name}': bad shape ${JSON.stringify(t.shape)}`);
    if (t.name === '__metadata__' || Object.prototype.hasOwnProperty.call(entries, t.name)) throw new RangeError(`tensor name '${t.name}' is reserved or declared twice`);
    const size = elementCount(t.shape) * dtypeSize(t.dtype);
    entries[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    sizes.push(size);
    offset += size;
  }
  const json = new TextEncoder().encode(JSON.stringify(entries));
  const padded = Math.ceil(json.length / 8) * 8;
  const header = new Uint8Array(8 + padded).fill(0x20, 8 + json.length);
  new DataView(header.buffer).setBigUint64(0, BigInt(padded), true);
  header.set(json, 8);
  return { header, sizes };
}

export class SafetensorsWriter {
  private current = 0; // index of the tensor now receiving data
  private written = 0; // bytes of it received so far
  private position: number; // file offset of the next write
  private staging = new Uint8Array(STAGING_BYTES);
  private staged = 0;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly tmpPath: string,
    private readonly fh: FileHandle,
    private readonly decls: TensorDecl[],
    private readonly sizes: number[],
    headerBytes: number,
  ) {
    this.position = headerBytes;
    this.skipEmpty();
  }

  /** Create `path` (via a temporary file) and write its header. Data must follow in declared order. */
  static async open(path: string, tensors: TensorDecl[], metadata?: Record<string, string>): Promise<SafetensorsWriter> {
    const { header, sizes } = encodeSafetensorsHeader(tensors, metadata);
    const tmpPath = `${path}.${process.pid}.${Date.now().toString(36)}.tmp`;
    let fh: FileHandle;
    try {
      fh = await open(tmpPath, 'wx');
    } catch (err) {
      throw fromFsError(err, tmpPath, 'create');
    }
    const writer = new SafetensorsWriter(path, tmpPath, fh, tensors.map((t) => ({ ...t, shape: [...t.shape] })), sizes, header.length);
    await writer.guard(() => writeAll(fh, tmpPath, header, 0));
    return writer;
  }

  /** Append a chunk of `name`'s raw little-endian bytes. The chunk is copied or written at once; callers may reuse it. */
  async writeTensorData(name: string, chunk: Uint8Array): Promise<void> {
    if (this.closed) throw new RangeError(`${this.path}: writer is closed`);
    const decl = this.decls[this.current];
    if (!decl || decl.name !== name) {
      throw new RangeError(`${this.path}: got data for '${name}' but the next tensor in declared order is ${decl ? `'${decl.name}'` : 'none (all written)'}`);
    }
    const room = this.sizes[this.current] - this.written;
    if (chunk.length > room) {
      throw new RangeError(`${this.path}: tensor '${name}' is declared as ${this.sizes[this.current]} bytes; ${this.written + chunk.length} given`);
    }
    await this.guard(async () => {
      if (this.staged + chunk.length <= STAGING_BYTES) {
        this.staging.set(chunk, this.staged);
        this.staged += chunk.length;
      } else {
        await this.flush();
        await writeAll(this.fh, this.tmpPath, chunk, this.position);
        this.position += chunk.length;
      }
    });
    this.written += chunk.length;
    if (this.written === this.sizes[this.current]) {
      this.current++;
      this.written = 0;
      this.skipEmpty();
    }
  }

  /** Check every declared byte arrived, flush, and move the file into place. */
  async finish(): Promise<void> {
    if (this.closed) throw new RangeError(`${this.path}: writer is closed`);
    if (this.current < this.decls.length) {
      const decl = this.decls[this.current];
      const err = new RangeError(`${this.path}: finish() before tensor '${decl.name}' was complete (${this.written} of ${this.sizes[this.current]} bytes)`);
      await this.abort();
      throw err;
    }
    await this.guard(async () => {
      await this.flush();
      await this.fh.sync();
      this.closed = true;
      await this.fh.close();
      await rename(this.tmpPath, this.path).catch((err) => { throw fromFsError(err, this.path, 'rename into'); });
    });
  }

  /** Give up: close and delete the temporary file. Safe to call more than once. */
  async abort(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      await this.fh.close().catch(() => undefined);
    }
    await unlink(this.tmpPath).catch(() => undefined);
  }

  private skipEmpty(): void {
    while (this.current < this.decls.length && this.sizes[this.current] === 0) this.current++;
  }

  private async flush(): Promise<void> {
    if (this.staged === 0) return;
    await writeAll(this.fh, this.tmpPath, this.staging.subarray(0, this.staged), this.position);
    this.position += this.staged;
    this.staged = 0;
  }

  /** Run an I/O step; on failure remove the temporary file and report it as an IoError. */
  private async guard(step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (err) {
      await this.abort();
      throw fromFsError(err, this.tmpPath, 'write');
    }
  }
}

async function writeAll(fh: FileHandle, path: string, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await fh.write(bytes, done, bytes.length - done, position + done);
    if (bytesWritten === 0) throw fromFsError(Object.assign(new Error('no progress'), { code: 'EIO' }), path, 'write');
    done += bytesWritten;
  }
}
