/**
 * A forward-only cursor over a GGUF header, read from a ByteSource in windows. Every read is
 * checked against the real file size first, so a corrupt count or length becomes a FormatError
 * naming the offset instead of a huge allocation or a read of zeros past the end.
 */
import type { ByteSource } from '../io/byte-source.ts';
import { FormatError } from '../errors.ts';

/**
 * Reads start small over the network (most headers are a few KB; each read costs a request) and
 * double up to 4 MiB. A local file starts at 1 MiB: one read then holds a 32k-token vocabulary
 * and its tensor list, where growing windows cost five reads and as many buffers.
 */
const FIRST_WINDOW = 64 << 10;
const FIRST_LOCAL_WINDOW = 1 << 20;
const MAX_WINDOW = 4 << 20;
const decoder = new TextDecoder('utf-8');

export class HeaderCursor {
  /** Absolute file offset of the next byte. */
  pos = 0;
  private buf: Uint8Array = new Uint8Array(0);
  private view = new DataView(this.buf.buffer);
  private bufStart = 0;
  private window: number;
  /** While set, bytes from this absolute offset on stay buffered across window reads (see pin). */
  private pinned: number | undefined;

  constructor(readonly src: ByteSource, readonly fileSize: number) {
    this.window = src.fd === undefined ? FIRST_WINDOW : FIRST_LOCAL_WINDOW; // fd: a local file
  }

  get remaining(): number {
    return this.fileSize - this.pos;
  }

  fail(code: string, message: string, offset = this.pos, tensor?: string): FormatError {
    return new FormatError(code, message, { file: this.src.name, offset, ...(tensor ? { tensor } : {}) });
  }

  /** True when `n` bytes at `pos` are already buffered (lets hot loops skip an await). */
  has(n: number): boolean {
    return this.bufStart + this.buf.length - this.pos >= n;
  }

  /** Makes `n` bytes at `pos` available, or throws TRUNCATED naming `what`. */
  async need(n: number, what: string): Promise<void> {
    if (n > this.remaining) {
      throw this.fail('TRUNCATED', `truncated: ${what} needs ${n} bytes at offset ${this.pos} but only ${Math.max(0, this.remaining)} remain`);
    }
    const have = this.bufStart + this.buf.length - this.pos;
    if (have >= n) return;
    const len = Math.min(Math.max(n, this.window), this.remaining);
    this.window = Math.min(this.window * 2, MAX_WINDOW);
    const fresh = await this.src.read(this.pos, len);
    if (this.pinned === undefined) {
      this.buf = fresh;
      this.bufStart = this.pos;
    } else {
      const kept = this.buf.subarray(this.pinned - this.bufStart, this.pos - this.bufStart);
      const joined = new Uint8Array(kept.length + fresh.length);
      joined.set(kept);
      joined.set(fresh, kept.length);
      this.buf = joined;
      this.bufStart = this.pinned;
    }
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /**
   * Keeps every byte from `pos` on buffered until `unpin()`, which returns them: a region read
   * with many small steps (a string array walked for its lengths) comes out as one view, without
   * a second read of the source (a remote file would cost a request).
   */
  pin(): void {
    this.pinned = this.pos;
  }

  unpin(): Uint8Array {
    const from = this.pinned ?? this.pos;
    this.pinned = undefined;
    return this.buf.subarray(from - this.bufStart, this.pos - this.bufStart);
  }

  /**
   * Walks consecutive GGUF strings (u64 length, then the bytes) that lie wholly in the buffered
   * window, recording where each one's bytes start (relative to `base`) in starts[i], starts[i+1], …;
   * returns the next i. Stops at the first string not wholly buffered or with a length of 2^32 or
   * more, where the caller's checked read takes over. A tight loop over bytes, no call per string:
   * a vocabulary is tens of thousands of them.
   */
  scanStrings(starts: Uint32Array, i: number, base: number): number {
    const b = this.buf;
    const end = b.length;
    const n = starts.length;
    let at = this.pos - this.bufStart;
    while (i < n && at + 8 <= end) {
      const len = (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
      if ((b[at + 4]! | b[at + 5]! | b[at + 6]! | b[at + 7]!) !== 0 || at + 8 + len > end) break;
      starts[i++] = this.bufStart + at + 8 - base;
      at += 8 + len;
    }
    this.pos = this.bufStart + at;
    return i;
  }

  /** Moves past `n` buffered bytes (call need() first). */
  skip(n: number): void {
    this.pos += n;
  }

  private take(n: number): number {
    const at = this.pos - this.bufStart;
    this.pos += n;
    return at;
  }

  // Synchronous reads: call need() first.
  u8(): number { return this.view.getUint8(this.take(1)); }
  i8(): number { return this.view.getInt8(this.take(1)); }
  u16(): number { return this.view.getUint16(this.take(2), true); }
  i16(): number { return this.view.getInt16(this.take(2), true); }
  u32(): number { return this.view.getUint32(this.take(4), true); }
  i32(): number { return this.view.getInt32(this.take(4), true); }
  f32(): number { return this.view.getFloat32(this.take(4), true); }
  f64(): number { return this.view.getFloat64(this.take(8), true); }
  u64(): bigint { return this.view.getBigUint64(this.take(8), true); }
  i64(): bigint { return this.view.getBigInt64(this.take(8), true); }

  /** Copies `n` buffered bytes out (aligned at 0, so typed-array views over it are legal). */
  bytes(n: number): Uint8Array {
    const at = this.take(n);
    return this.buf.slice(at, at + n);
  }

  utf8(n: number): string {
    const at = this.take(n);
    return decodeUtf8(this.buf, at, at + n);
  }
}

const SHORT_STRING = 48;

/** Bytes [from, to) as TextDecoder decodes them (the one decoder of GGUF strings, eager or lazy). */
export function decodeUtf8(b: Uint8Array, from: number, to: number): string {
  // A vocabulary is tens of thousands of short strings: decoding those in JS avoids a
  // TextDecoder call (and its garbage) per token; anything else goes to TextDecoder.
  if (to - from <= SHORT_STRING) {
    const s = decodeShortUtf8(b, from, to);
    if (s !== undefined) return s;
  }
  return decoder.decode(b.subarray(from, to));
}
const codes: number[] = [];

/**
 * Well-formed UTF-8 (Unicode's Table 3-7) in [from, to) as a string, or undefined at the first
 * ill-formed sequence or leading BOM, which TextDecoder then decodes (replacement characters, BOM
 * stripping) — so the result is always exactly TextDecoder's.
 */
export function decodeShortUtf8(b: Uint8Array, from: number, to: number): string | undefined {
  codes.length = 0;
  let i = from;
  while (i < to) {
    const c = b[i]!;
    if (c < 0x80) { codes.push(c); i++; continue; }
    let cp: number, len: number, lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) { cp = c & 0x1f; len = 2; }
    else if (c >= 0xe0 && c <= 0xef) { cp = c & 0x0f; len = 3; if (c === 0xe0) lo = 0xa0; else if (c === 0xed) hi = 0x9f; }
    else if (c >= 0xf0 && c <= 0xf4) { cp = c & 0x07; len = 4; if (c === 0xf0) lo = 0x90; else if (c === 0xf4) hi = 0x8f; }
    else return undefined;
    if (i + len > to) return undefined;
    for (let k = 1; k < len; k++) {
      const d = b[i + k]!;
      if (d < (k === 1 ? lo : 0x80) || d > (k === 1 ? hi : 0xbf)) return undefined;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp === 0xfeff && i === from) return undefined;
    if (cp > 0xffff) { cp -= 0x10000; codes.push(0xd800 | (cp >> 10), 0xdc00 | (cp & 0x3ff)); } else codes.push(cp);
    i += len;
  }
  return String.fromCharCode.apply(null, codes);
}
