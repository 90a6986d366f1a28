/**
 * A growable little-endian byte buffer for serializing the GGUF header in memory before writing it.
 * Every writer calls reserve() before touching `buf`/`view`: reserve may replace both.
 */
const encoder = new TextEncoder();

export class ByteBuilder {
  private buf = new Uint8Array(4096);
  private view = new DataView(this.buf.buffer);
  length = 0;

  /** Makes room for `n` more bytes without claiming them. */
  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** Claims `n` bytes and returns where they start. */
  private reserve(n: number): number {
    this.ensure(n);
    const at = this.length;
    this.length += n;
    return at;
  }

  u8(v: number): void { const at = this.reserve(1); this.view.setUint8(at, v); }
  i8(v: number): void { const at = this.reserve(1); this.view.setInt8(at, v); }
  u16(v: number): void { const at = this.reserve(2); this.view.setUint16(at, v, true); }
  i16(v: number): void { const at = this.reserve(2); this.view.setInt16(at, v, true); }
  u32(v: number): void { const at = this.reserve(4); this.view.setUint32(at, v, true); }
  i32(v: number): void { const at = this.reserve(4); this.view.setInt32(at, v, true); }
  f32(v: number): void { const at = this.reserve(4); this.view.setFloat32(at, v, true); }
  f64(v: number): void { const at = this.reserve(8); this.view.setFloat64(at, v, true); }
  u64(v: bigint): void { const at = this.reserve(8); this.view.setBigUint64(at, v, true); }
  i64(v: bigint): void { const at = this.reserve(8); this.view.setBigInt64(at, v, true); }

  bytes(b: Uint8Array): void {
    const at = this.reserve(b.length);
    this.buf.set(b, at);
  }

  /** GGUF string: u64 byte length, UTF-8 bytes, no terminator. Encoded in place (headers hold 100k+ tokens). */
  string(s: string): void {
    this.ensure(8 + 3 * s.length); // UTF-8 needs at most 3 bytes per UTF-16 unit
    const at = this.length;
    const { written } = encoder.encodeInto(s, this.buf.subarray(at + 8));
    this.view.setUint32(at, written, true); // u64 length: low word, high word is 0 (< 2^32)
    this.view.setUint32(at + 4, 0, true);
    this.length = at + 8 + written;
  }

  zeros(n: number): void {
    this.reserve(n); // fresh bytes are already zero
  }

  result(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}
