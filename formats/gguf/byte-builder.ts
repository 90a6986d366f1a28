/**
 * A growable little-endian byte buffer for serializing the GGUF header in memory before writing it.
 * Every writer calls reserve() before touching `buf`/`view`: reserve may replace both.
 */
const encoder = new TextEncoder();

export class ByteBuilder {
  private buf = new Uint8Array(4096);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private reserve(n: number): number {
    const at = this.length;
    if (at + n > this.buf.length) {
      let cap = this.buf.length * 2;
      while (cap < at + n) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.buf.subarray(0, at));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
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

  /** GGUF string: u64 byte length, UTF-8 bytes, no terminator. */
  string(s: string): void {
    const b = encoder.encode(s);
    this.u64(BigInt(b.length));
    this.bytes(b);
  }

  zeros(n: number): void {
    this.reserve(n); // fresh bytes are already zero
  }

  result(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}
