/**
 * One growable read buffer, reused across chunks, for sources whose bytes are widened or
 * dequantized before quantizing. The write stage reads one chunk at a time; if two reads ever
 * overlapped, the second gets fresh memory rather than sharing this one.
 */
export class ReusedBytes {
  private buf = new Uint8Array(0);
  private busy = false;

  async with<R>(bytes: number, use: (buf: Uint8Array) => Promise<R>): Promise<R> {
    if (this.busy) return use(new Uint8Array(bytes));
    this.busy = true;
    try {
      if (this.buf.length < bytes) this.buf = new Uint8Array(bytes);
      return await use(this.buf.subarray(0, bytes));
    } finally {
      this.busy = false;
    }
  }
}
