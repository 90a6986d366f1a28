/**
 * Streaming GGUF v3 writer (the layout gguf-py's GGUFWriter and ggml's gguf.cpp emit, §1 of
 * the reference). The header is built in memory (it is small); tensor data is streamed straight
 * to disk in tensor-info order, so no tensor is ever held whole. A small state machine refuses
 * calls in the wrong order: a file written out of order would load as garbage, not fail.
 *
 *   open → addKv/addTensor* → writeHeader → writeTensorData* (info order) → finish
 *   abort() is allowed at any time and closes the handle (the caller removes the temp file).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { ForgeError, UsageError, fromFsError } from '../errors.ts';
import { ggmlType, tensorBytes } from '../../kernels/ggml-types.ts';
import { ByteBuilder } from './byte-builder.ts';
import { GGML_MAX_DIMS, GGML_MAX_NAME, GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, padTo } from './reader.ts';
import { GgufValueType, type GgufKv, type GgufValue } from './value-types.ts';
import { checkValue, writeValue } from './write-value.ts';

interface PlannedTensor {
  name: string;
  ne: readonly number[];
  type: number;
  nbytes: number;
  offset: number;
}

type State = 'building' | 'data' | 'finished' | 'aborted';

/** Bytes of tensor data between background flushes (flushEarly). */
const FLUSH_EVERY = 16 << 20;

/** HF/PyTorch shape `[out, in]` → GGUF `ne = [in, out]` (same row-major bytes, no transpose). */
export function neFromTorchShape(shape: readonly number[]): number[] {
  return [...shape].reverse();
}

const isPow2 = (n: number) => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;

export class GgufWriter {
  private readonly kvs: GgufKv[] = [];
  private readonly tensors: PlannedTensor[] = [];
  private readonly names = new Set<string>();
  private state: State = 'building';
  private current = 0;
  private writtenOfCurrent = 0;
  /** File position of the data section (after writeHeader); every write is positional. */
  private dataStart = 0;
  /** Bytes accounted since the last background flush was started, and that flush (see flushEarly). */
  private unflushed = 0;
  private flushing: Promise<unknown> | undefined;

  private constructor(readonly path: string, private fh: FileHandle, private alignment: number, private readonly alignmentGiven: boolean) {}

  static async open(path: string, opts: { alignment?: number } = {}): Promise<GgufWriter> {
    const alignment = opts.alignment ?? GGUF_DEFAULT_ALIGNMENT;
    if (!isPow2(alignment) || alignment > 0xffffffff) throw new UsageError('BAD_ALIGNMENT', `GGUF alignment must be a power of two, got ${alignment}`);
    let fh: FileHandle;
    try {
      fh = await open(path, 'w');
    } catch (err) {
      throw fromFsError(err, path, 'create');
    }
    return new GgufWriter(path, fh, alignment, opts.alignment !== undefined);
  }

  private order(expected: State, call: string): void {
    if (this.state !== expected) {
      throw new ForgeError('internal', 'GGUF_WRITER_ORDER', `${this.path}: ${call} is not allowed now (writer is ${this.state === 'data' ? 'writing tensor data' : this.state})`, { file: this.path });
    }
  }

  /** Adds a metadata key; duplicate keys are refused (gguf.cpp refuses them when loading). */
  addKv(key: string, value: GgufValue): void {
    this.order('building', `addKv('${key}')`);
    if (!key) throw new UsageError('BAD_KEY', `${this.path}: metadata keys must be non-empty`);
    if (this.kvs.some((kv) => kv.key === key)) throw new UsageError('DUPLICATE_KEY', `${this.path}: duplicate metadata key '${key}'`, { file: this.path });
    checkValue(key, value);
    if (key === 'general.alignment') this.adoptAlignment(value);
    this.kvs.push({ key, ...value } as GgufKv);
  }

  private adoptAlignment(value: GgufValue): void {
    const v = value.value;
    if (value.type !== GgufValueType.UINT32 || typeof v !== 'number' || !isPow2(v)) {
      throw new UsageError('BAD_ALIGNMENT', `${this.path}: general.alignment must be a UINT32 power of two`);
    }
    if (this.alignmentGiven && v !== this.alignment) {
      throw new UsageError('BAD_ALIGNMENT', `${this.path}: general.alignment ${v} disagrees with the writer's alignment ${this.alignment}`);
    }
    this.alignment = v;
  }

  /**
   * Declares a tensor; `ne` is in GGUF order (ne[0] = row length) and n_dims = ne.length as given:
   * convert_hf_to_gguf keeps trailing 1s, llama-quantize drops them (ggml_n_dims). Data must later
   * come in declaration order.
   */
  addTensor(name: string, ne: readonly number[], type: number): void {
    this.order('building', `addTensor('${name}')`);
    const where = { file: this.path, tensor: name };
    const t = ggmlType(type);
    if (!name || Buffer.byteLength(name) >= GGML_MAX_NAME) throw new UsageError('BAD_TENSOR', `${this.path}: tensor name '${name}' must be 1..${GGML_MAX_NAME - 1} bytes`, where);
    if (this.names.has(name)) throw new UsageError('DUPLICATE_TENSOR', `${this.path}: duplicate tensor '${name}'`, where);
    if (!t) throw new UsageError('BAD_TENSOR', `${this.path}: tensor '${name}' has unknown ggml type ${type}`, where);
    if (ne.length < 1 || ne.length > GGML_MAX_DIMS || ne.some((n) => !Number.isSafeInteger(n) || n < 0)) {
      throw new UsageError('BAD_TENSOR', `${this.path}: tensor '${name}' has invalid shape [${ne.join(', ')}]`, where);
    }
    if (ne[0]! % t.blockSize !== 0) {
      throw new UsageError('BAD_TENSOR', `${this.path}: tensor '${name}' ne[0]=${ne[0]} is not a multiple of the ${t.name} block size ${t.blockSize}`, where);
    }
    const nbytes = tensorBytes(t, ne);
    if (nbytes > BigInt(Number.MAX_SAFE_INTEGER)) throw new UsageError('BAD_TENSOR', `${this.path}: tensor '${name}' is too large`, where);
    this.names.add(name);
    this.tensors.push({ name, ne: [...ne], type, nbytes: Number(nbytes), offset: 0 });
  }

  /** Writes header, KVs, tensor infos and the padding up to the data section. */
  async writeHeader(): Promise<void> {
    this.order('building', 'writeHeader()');
    if (this.alignment !== GGUF_DEFAULT_ALIGNMENT && !this.kvs.some((kv) => kv.key === 'general.alignment')) {
      // Readers assume 32 unless told; a different alignment must be recorded or the file is inconsistent.
      this.kvs.push({ key: 'general.alignment', type: GgufValueType.UINT32, value: this.alignment });
    }
    const bytes = encodeGgufHeader(this.kvs, this.tensors, this.alignment);
    this.state = 'data';
    this.dataStart = bytes.length;
    await this.write(bytes, 0);
    this.skipEmptyTensors();
  }

  /**
   * The descriptor and the file position where tensor `name`'s data goes (after writeHeader), for
   * writers in other threads that put its bytes there themselves with positional writes; they
   * then report them with `wroteTensorData`.
   */
  tensorDataPosition(name: string): { fd: number; offset: number } {
    this.order('data', `tensorDataPosition('${name}')`);
    const t = this.tensors.find((x) => x.name === name);
    if (!t) throw this.misuse(`tensorDataPosition('${name}'): no such tensor`);
    return { fd: this.fh.fd, offset: this.dataStart + t.offset };
  }

  /** Appends bytes of tensor `name`; call repeatedly per tensor, tensors in info order. */
  async writeTensorData(name: string, chunk: Uint8Array): Promise<void> {
    await this.advance(`writeTensorData('${name}')`, name, chunk.length, chunk);
  }

  /**
   * Accounts for the next `length` bytes of tensor `name`, already written at their place (see
   * tensorDataPosition) by someone else; same order rules as writeTensorData, and the padding
   * after a complete tensor is written here.
   */
  async wroteTensorData(name: string, length: number): Promise<void> {
    await this.advance(`wroteTensorData('${name}')`, name, length);
  }

  private async advance(call: string, name: string, length: number, chunk?: Uint8Array): Promise<void> {
    this.order('data', call);
    const t = this.tensors[this.current];
    if (!t) throw this.misuse(`${call}: every declared tensor is already complete`);
    if (t.name !== name) {
      throw this.misuse(`${call}: expected data for tensor '${t.name}' (${this.writtenOfCurrent} of ${t.nbytes} bytes written); tensors must be written in info order`);
    }
    if (this.writtenOfCurrent + length > t.nbytes) {
      throw this.misuse(`tensor '${name}': ${this.writtenOfCurrent + length} bytes given but it holds ${t.nbytes}`);
    }
    if (chunk) await this.write(chunk, this.dataStart + t.offset + this.writtenOfCurrent);
    this.writtenOfCurrent += length;
    this.flushEarly(length);
    if (this.writtenOfCurrent === t.nbytes) {
      const pad = padTo(t.nbytes, this.alignment) - t.nbytes;
      if (pad) await this.write(new Uint8Array(pad), this.dataStart + t.offset + t.nbytes);
      this.current++;
      this.writtenOfCurrent = 0;
      this.skipEmptyTensors();
    }
  }

  /** Zero-byte tensors have nothing to stream; step over them so the next tensor can follow. */
  private skipEmptyTensors(): void {
    while (this.tensors[this.current]?.nbytes === 0) this.current++;
  }

  /** Checks that every tensor received exactly its bytes, fsyncs and closes. */
  async finish(): Promise<void> {
    this.order('data', 'finish()');
    const t = this.tensors[this.current];
    if (t) throw this.misuse(`finish(): tensor '${t.name}' has ${this.writtenOfCurrent} of ${t.nbytes} bytes${this.tensors.length - this.current > 1 ? ` and ${this.tensors.length - this.current - 1} more tensors are missing` : ''}`);
    try {
      await this.flushing;
      await this.fh.sync();
      await this.fh.close();
    } catch (err) {
      throw fromFsError(err, this.path, 'write');
    }
    this.state = 'finished';
  }

  async abort(): Promise<void> {
    if (this.state === 'finished' || this.state === 'aborted') return;
    this.state = 'aborted';
    await this.fh.close().catch(() => {});
  }

  /**
   * Starts an fdatasync in the background every FLUSH_EVERY bytes (one at a time), so the disk
   * writes the data while later tensors are still being made and the fsync in finish() has only
   * the tail left: that fsync was ~0.1 s of a 0.8 s whole-process quantize (105 MB out). Its
   * error, if any, is thrown by finish().
   */
  private flushEarly(bytes: number): void {
    this.unflushed += bytes;
    if (this.unflushed < FLUSH_EVERY || this.flushing) return;
    this.unflushed = 0;
    const p = this.fh.datasync().then(() => { if (this.flushing === p) this.flushing = undefined; });
    p.catch(() => undefined); // awaited (and thrown) in finish()
    this.flushing = p;
  }

  private misuse(message: string): ForgeError {
    return new ForgeError('internal', 'GGUF_WRITER_ORDER', `${this.path}: ${message}`, { file: this.path });
  }

  private async write(bytes: Uint8Array, position: number): Promise<void> {
    try {
      let done = 0;
      while (done < bytes.length) done += (await this.fh.write(bytes, done, bytes.length - done, position + done)).bytesWritten;
    } catch (err) {
      await this.abort();
      throw fromFsError(err, this.path, 'write');
    }
  }
}

/**
 * The header bytes of a GGUF file: magic, version 3, counts, the KVs, the tensor infos (setting
 * each tensor's data offset) and the padding up to the data section. The writer writes exactly
 * these; planners measure the header with the same function, so a planned size cannot drift from
 * the written one.
 */
export function encodeGgufHeader(kvs: readonly GgufKv[], tensors: readonly { name: string; ne: readonly number[]; type: number; nbytes: number; offset?: number }[], alignment = GGUF_DEFAULT_ALIGNMENT): Uint8Array {
  const b = new ByteBuilder();
  b.u32(GGUF_MAGIC);
  b.u32(3);
  b.u64(BigInt(tensors.length));
  b.u64(BigInt(kvs.length));
  for (const kv of kvs) {
    b.string(kv.key);
    writeValue(b, kv);
  }
  let offset = 0;
  for (const t of tensors) {
    t.offset = offset;
    b.string(t.name);
    b.u32(t.ne.length);
    for (const n of t.ne) b.u64(BigInt(n));
    b.u32(t.type);
    b.u64(BigInt(offset));
    offset = padTo(offset + t.nbytes, alignment);
  }
  b.zeros(padTo(b.length, alignment) - b.length);
  return b.result();
}
