/**
 * A small set of equal-sized buffers on shared memory, handed out and given back explicitly.
 *
 * Why: a streaming pipeline that allocates a fresh ArrayBuffer per chunk keeps a tiny JS heap, so
 * V8 collects those (external) buffers lazily and RSS climbs to gigabytes. Reusing a handful of
 * buffers bounds memory by (buffers in flight × capacity) and also skips the page faults of fresh
 * memory. Shared memory, so the worker pool reads and writes them without staging copies.
 *
 * Safety rule for callers: a buffer goes back (`release`) only after every reader and writer of it
 * has finished (an async file write included); until then it is never handed out again.
 */
export class SharedBufferPool {
  private readonly free: Uint8Array[] = [];
  private readonly lent = new Set<Uint8Array>();
  private allocated = 0;

  /** `capacity`: bytes of every buffer (requests above it fail loudly rather than grow silently). */
  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 0) throw new RangeError(`buffer capacity must be a non-negative integer, got ${capacity}`);
  }

  /** A buffer of `capacity` bytes not in use elsewhere: a returned one, else a new one. */
  acquire(bytes = this.capacity): Uint8Array {
    if (bytes > this.capacity) throw new RangeError(`asked for ${bytes} bytes from a pool of ${this.capacity}-byte buffers`);
    const buf = this.free.pop() ?? this.allocate();
    this.lent.add(buf);
    return buf;
  }

  /** Gives a buffer back; releasing one that is not lent out is a bug, reported as such. */
  release(buf: Uint8Array): void {
    if (!this.lent.delete(buf)) throw new Error('SharedBufferPool.release: buffer is not lent out by this pool');
    this.free.push(buf);
  }

  /**
   * Forgets lent buffers for good, for after a failure, when work in flight (a worker job, a file
   * write) may still touch them: they are never handed out again, and are collected once that
   * work lets go of them. Other borrowers' buffers are untouched.
   */
  abandon(bufs: Iterable<Uint8Array>): void {
    for (const b of bufs) this.lent.delete(b);
  }

  /** Buffers ever allocated (the pipeline's depth, for tests and diagnostics). */
  get buffers(): number {
    return this.allocated;
  }

  private allocate(): Uint8Array {
    this.allocated++;
    // Rounded to whole pages so a Float32Array (or Float64Array) view of any buffer is aligned.
    return new Uint8Array(new SharedArrayBuffer(Math.ceil(this.capacity / 4096) * 4096), 0, this.capacity);
  }
}
