/**
 * Seeded test inputs for the kernel tests: every 256-value segment gets one "kind" of data so each
 * block type sees normal, heavy-tailed, zero, single-nonzero, tie, on-grid, subnormal, huge and
 * non-finite blocks. Deterministic (xorshift128+-style PRNG), no I/O.
 */
export class Rng {
  private s0: number;
  private s1: number;
  constructor(seed: number) {
    this.s0 = (seed ^ 0x9e3779b9) >>> 0 || 1;
    this.s1 = (Math.imul(seed, 0x85ebca6b) ^ 0xc2b2ae35) >>> 0 || 2;
  }
  /** Uniform uint32. */
  u32(): number {
    let a = this.s0;
    const b = this.s1;
    this.s0 = b;
    a ^= a << 23; a ^= a >>> 17; a ^= b ^ (b >>> 26);
    this.s1 = a >>> 0;
    return (this.s0 + this.s1) >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    return (this.u32() + (this.u32() >>> 11) / 2 ** 21) / 2 ** 32;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  gauss(): number {
    const u = 1 - this.next(), v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

export const INPUT_KINDS = [
  'gaussian', 'heavy-tailed', 'all-zero', 'single-nonzero', 'half-ties', 'on-grid', 'subnormal', 'huge',
  'near-fp16-max', 'non-finite', 'bf16-rounded', 'small-ints', 'all-positive', 'constant', 'tiny',
  'half-zero', 'outlier-block', 'scale-ties',
] as const;
export type InputKind = (typeof INPUT_KINDS)[number];

const bf16Round = (x: number) => {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer);
  u[0] = (u[0]! + 0x7fff + ((u[0]! >>> 16) & 1)) & 0xffff0000;
  return f[0]!;
};

/** Fills `out[off..off+n)` with one kind of data. */
export function fillKind(rng: Rng, kind: InputKind, out: Float32Array, off: number, n: number): void {
  const scale = 10 ** (rng.next() * 4 - 3); // 1e-3 .. 10
  for (let i = 0; i < n; i++) {
    let v: number;
    switch (kind) {
      case 'gaussian': v = rng.gauss() * scale; break;
      case 'heavy-tailed': { const g = rng.gauss(); v = (rng.next() < 0.02 ? g * 40 : g / Math.max(0.05, Math.abs(rng.gauss()))) * scale; break; }
      case 'all-zero': v = rng.next() < 0.1 ? -0 : 0; break;
      case 'single-nonzero': v = 0; break;
      case 'half-ties': v = ((rng.int(33) - 16) / 2) * 2 ** (rng.int(12) - 6); break;
      case 'on-grid': v = (rng.int(16) - 8) * 2 ** (rng.int(10) - 8); break;
      case 'subnormal': v = (rng.next() * 2 - 1) * 1e-39 * (rng.next() < 0.5 ? 1 : 1e-5); break;
      case 'huge': v = (rng.next() * 2 - 1) * 1e30 * (rng.next() < 0.2 ? 100 : 1); break;
      case 'near-fp16-max': v = (rng.next() < 0.5 ? -1 : 1) * (60000 + rng.next() * 12000); break;
      case 'non-finite': { const r = rng.next(); v = r < 0.03 ? NaN : r < 0.06 ? Infinity : r < 0.09 ? -Infinity : rng.gauss(); break; }
      case 'bf16-rounded': v = bf16Round(rng.gauss() * scale); break;
      case 'small-ints': v = rng.int(9) - 4; break;
      case 'all-positive': v = rng.next() * scale + scale / 10; break;
      case 'constant': v = scale; break;
      case 'tiny': v = rng.gauss() * 1e-6; break;
      case 'half-zero': v = i % 32 < 16 ? 0 : rng.gauss() * scale; break;
      case 'outlier-block': v = rng.gauss() * 0.01 + (rng.next() < 0.01 ? (rng.next() < 0.5 ? -1 : 1) * 50 : 0); break;
      // Each 32-block's extreme is ±127·2^e (or ±8·2^e / ±16·2^e), so Q8_0/Q4_0/Q5_0 scales are powers
      // of two and x·id lands exactly on .5 ties; the rest are half-integers times 2^e.
      case 'scale-ties': {
        const e = 2 ** ((off >> 8) % 9 - 4);
        const top = [127, 8, 16][(off >> 8) % 3]!;
        v = i % 32 === 0 ? (rng.next() < 0.5 ? -top : top) * e : ((rng.int(2 * top - 1) - (top - 1)) / 2) * e;
        break;
      }
    }
    out[off + i] = v;
  }
  if (kind === 'single-nonzero') out[off + rng.int(n)] = rng.gauss() * scale;
}

/**
 * `n` floats (a multiple of 256) cycling through every kind, 256 values per segment, in a shuffled
 * order so each kind also lands next to every other. Gaussian data fills half the segments.
 */
export function makeInputs(seed: number, n: number, kinds: readonly InputKind[] = INPUT_KINDS): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(n);
  for (let off = 0, s = 0; off < n; off += 256, s++) {
    const kind = s % 2 === 0 ? (rng.next() < 0.5 ? 'gaussian' : 'heavy-tailed') : kinds[rng.int(kinds.length)]!;
    fillKind(rng, kind, out, off, Math.min(256, n - off));
  }
  return out;
}

/**
 * `nBlocks` blocks of random bytes for a super-block type whose block starts with an fp16 scale
 * (the i-quants): every code is valid, and each scale is a random finite fp16.
 */
export function randomScaledBlocks(typeSize: number, nBlocks: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(nBlocks * typeSize);
  const rng = new Rng(seed);
  for (let i = 0; i < bytes.length; i++) bytes[i] = rng.u32() & 255;
  for (let b = 0; b < nBlocks; b++) {
    let h = rng.u32() & 0xffff; // any finite fp16 d
    if ((h & 0x7c00) === 0x7c00) h &= 0xbfff;
    bytes[b * typeSize] = h & 255;
    bytes[b * typeSize + 1] = h >>> 8;
  }
  return bytes;
}
