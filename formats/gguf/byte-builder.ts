/** A growable little-endian byte buffer for serializing the GGUF header in memory before writing it. */
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

  u8(v: number): void { this.view.setUint8(this.reserve(1), v); }
  i8(v: number): void { this.view.setInt8(this.reserve(1), v); }
  u16(v: number): void { this.view.setUint16(this.reserve(2), v, true); }
  i16(v: number): void { this.view.setInt16(this.reserve(2), v, true); }
  u32(v: number): void { this.view.setUint32(this.reserve(4), v, true); }
  i32(v: number): void { this.view.setInt32(this.reserve(4), v, true); }
  f32(v: number): void { this.view.setFloat32(this.reserve(4), v, true); }
  f64(v: number): void { this.view.setFloat64(this.reserve(8), v, true); }
  u64(v: bigint): void { this.view.setBigUint64(this.reserve(8), v, true); }
  i64(v: bigint): void { this.view.setBigInt64(this.reserve(8), v, true); }

  bytes(b: Uint8Array): void {
    this.buf.set(b, this.reserve(b.length));
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
