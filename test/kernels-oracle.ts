/** Comparison helpers shared by the kernel tests (byte blocks and f32 bit patterns). */

/** Indexes of blocks whose bytes differ between two buffers of whole blocks. */
export function differingBlocks(a: Uint8Array, b: Uint8Array, blockBytes: number): number[] {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  const out: number[] = [];
  for (let off = 0; off < a.length; off += blockBytes) {
    for (let k = 0; k < blockBytes; k++) {
      if (a[off + k] !== b[off + k]) { out.push(off / blockBytes); break; }
    }
  }
  return out;
}

/**
 * Elements whose f32 bit patterns differ. Two NaNs count as equal whatever their payloads: JS
 * engines may canonicalize NaN when a number passes through arithmetic, and only "is NaN" matters
 * downstream. Everything else (including -0 vs +0) must match bit for bit.
 */
export function differingFloats(a: Float32Array, b: Float32Array): number[] {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) {
    if (ua[i] !== ub[i] && !(a[i] !== a[i] && b[i] !== b[i])) out.push(i);
  }
  return out;
}

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (v) => v.toString(16).padStart(2, '0')).join('');
}
