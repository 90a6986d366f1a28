/**
 * Random-access byte sources: a local file or an HTTP(S) URL read with Range requests.
 * Readers of big model files must never pull a whole file into memory, so the only way in is
 * `read(offset, length)`; a read that runs past the end is a FormatError (the file is shorter
 * than its own header claims), never a silently short buffer.
 */
import { closeSync, fstatSync, openSync, read, readSync } from 'node:fs';
import { promisify } from 'node:util';
import { FormatError, NetworkError, UsageError, fromFsError } from '../errors.ts';

export interface ByteSource {
  /** Path or URL, used in error messages. */
  readonly name: string;
  size(): Promise<number>;
  /** Exactly `length` bytes starting at `offset`, or a FormatError if the source is shorter. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /**
   * `read` into the caller's buffer (all of `into`), so streaming readers can reuse one buffer
   * instead of allocating per chunk. Optional: sources without it are read with `read`.
   */
  readInto?(offset: number, into: Uint8Array): Promise<void>;
  /**
   * A local file's descriptor, for readers in other threads (worker threads reading rows straight
   * into their own memory); only positional reads are made on it, so it never moves. Valid until
   * close().
   */
  readonly fd?: number;
  close(): Promise<void>;
}

export interface HttpSourceOptions {
  headers?: Record<string, string>;
  fetch?: typeof fetch;
}

export function isUrl(pathOrUrl: string): boolean {
  return /^https?:\/\//i.test(pathOrUrl);
}

/** Opens a local path or an http(s) URL. */
export function openSource(pathOrUrl: string, opts: HttpSourceOptions = {}): Promise<ByteSource> {
  return isUrl(pathOrUrl) ? openHttpSource(pathOrUrl, opts) : openFileSource(pathOrUrl);
}

function checkRange(name: string, offset: number, length: number, size: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new UsageError('BAD_RANGE', `${name}: invalid read of ${length} bytes at offset ${offset}`, { file: name });
  }
  if (offset + length > size) {
    throw new FormatError('TRUNCATED', `truncated: needs ${length} bytes at offset ${offset} but the file is ${size} bytes`, { file: name, offset });
  }
}

/**
 * Reads up to this size go straight through the kernel (readSync): a header window costs no
 * thread-pool round trips (~1 ms each on a small VM, ~10 ms of a 0.25 s `inspect`). Bigger reads
 * (tensor rows) stay asynchronous so the event loop keeps running meanwhile.
 */
const SYNC_READ_MAX = 1 << 20;
const readAsync = promisify(read);

export async function openFileSource(path: string): Promise<ByteSource> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw fromFsError(err, path, 'open');
  }
  let size: number;
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    size = st.size;
  } catch (err) {
    closeSync(fd);
    throw fromFsError(err, path, 'read');
  }
  const readInto = async (offset: number, out: Uint8Array): Promise<void> => {
    const length = out.length;
    checkRange(path, offset, length, size);
    let done = 0;
    while (done < length) {
      let n: number;
      try {
        n = length <= SYNC_READ_MAX ? readSync(fd, out, done, length - done, offset + done) : (await readAsync(fd, out, done, length - done, offset + done)).bytesRead;
      } catch (err) {
        throw fromFsError(err, path, 'read');
      }
      if (n === 0) throw new FormatError('TRUNCATED', `file shrank while reading at offset ${offset + done}`, { file: path, offset: offset + done });
      done += n;
    }
  };
  let open = true;
  return {
    name: path,
    size: async () => size,
    async read(offset, length) {
      checkRange(path, offset, length, size);
      const out = new Uint8Array(length);
      await readInto(offset, out);
      return out;
    },
    readInto,
    fd,
    close: async () => {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

/** Total size from `Content-Range: bytes a-b/TOTAL`, or undefined. */
function totalFromContentRange(h: string | null): number | undefined {
  const m = h?.match(/\/\s*(\d+)\s*$/);
  return m ? Number(m[1]) : undefined;
}

export async function openHttpSource(url: string, opts: HttpSourceOptions = {}): Promise<ByteSource> {
  const doFetch = opts.fetch ?? fetch;
  const get = async (start: number, end: number): Promise<Response> => {
    let res: Response;
    try {
      res = await doFetch(url, { headers: { ...opts.headers, Range: `bytes=${start}-${end}` } });
    } catch (err) {
      throw new NetworkError('FETCH_FAILED', `${url}: request failed: ${(err as Error).message}`, { file: url }, { cause: err });
    }
    if (res.status !== 206 && res.status !== 200) {
      await res.body?.cancel();
      throw new NetworkError('HTTP_STATUS', `${url}: HTTP ${res.status} ${res.statusText}`, { file: url, status: res.status });
    }
    return res;
  };
  // A one-byte probe learns the size from Content-Range; a 200 means the server ignores ranges.
  const probe = await get(0, 0);
  const total = totalFromContentRange(probe.headers.get('content-range'));
  await probe.body?.cancel();
  if (probe.status !== 206 || total === undefined || !Number.isSafeInteger(total)) {
    throw new NetworkError('NO_RANGE_SUPPORT', `${url}: server does not support HTTP range requests (status ${probe.status})`, { file: url, status: probe.status });
  }
  const size = total;
  return {
    name: url,
    size: async () => size,
    async read(offset, length) {
      checkRange(url, offset, length, size);
      if (length === 0) return new Uint8Array(0);
      const res = await get(offset, offset + length - 1);
      if (res.status !== 206) {
        await res.body?.cancel();
        throw new NetworkError('NO_RANGE_SUPPORT', `${url}: server ignored the range request at offset ${offset}`, { file: url, status: res.status });
      }
      const buf = new Uint8Array(await res.arrayBuffer());
      if (buf.length !== length) {
        throw new NetworkError('SHORT_READ', `${url}: asked for ${length} bytes at offset ${offset}, got ${buf.length}`, { file: url, offset });
      }
      return buf;
    },
    close: async () => {},
  };
}

/** A ByteSource over bytes already in memory (tests, small embedded files). */
export function memorySource(name: string, bytes: Uint8Array): ByteSource {
  return {
    name,
    size: async () => bytes.length,
    async read(offset, length) {
      checkRange(name, offset, length, bytes.length);
      return bytes.slice(offset, offset + length);
    },
    close: async () => {},
  };
}
