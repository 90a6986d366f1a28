/**
 * A GGUF string array kept as its encoded bytes, each string decoded when asked for (not cached:
 * a reader that wants them all takes toArray() once).
 * `inspect` shows a vocabulary's count and first few tokens: decoding (and allocating) 32k–150k
 * strings it never shows was most of the header's read time. Decoding goes through the same
 * function as the eager reader (header-cursor.ts decodeUtf8), so `at(i)` is exactly the string
 * the eager reader returns for element i. Read with `readGguf(src, { lazyStrings: true })`.
 */
import { decodeUtf8 } from './header-cursor.ts';

export class GgufStringArray implements Iterable<string> {
  readonly length: number;

  /**
   * @param bytes the array's encoded elements as stored (u64 length, then the bytes, for each)
   * @param starts where each element's bytes begin in `bytes` (after its length)
   */
  constructor(private readonly bytes: Uint8Array, private readonly starts: Uint32Array) {
    this.length = starts.length;
  }

  /** Element i (0 ≤ i < length), or undefined outside the array. */
  at(i: number): string | undefined {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) return undefined;
    const end = i + 1 < this.length ? this.starts[i + 1]! - 8 : this.bytes.length;
    return decodeUtf8(this.bytes, this.starts[i]!, end);
  }

  /** Elements [start, end) as a plain array (Array.prototype.slice's bounds, non-negative only). */
  slice(start = 0, end = this.length): string[] {
    const to = Math.min(Math.max(end, 0), this.length);
    const out: string[] = [];
    for (let i = Math.max(start, 0); i < to; i++) out.push(this.at(i)!);
    return out;
  }

  toArray(): string[] {
    return this.slice();
  }

  *[Symbol.iterator](): Iterator<string> {
    for (let i = 0; i < this.length; i++) yield this.at(i)!;
  }
}
