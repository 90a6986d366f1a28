/**
 * Half and bfloat16 conversions exactly as ggml does them on x86-64 builds of ggml-base:
 * `ggml_compute_fp32_to_fp16` (round-to-nearest-even, subnormals kept, |x| ≥ 65520 → inf,
 * NaN → 0x7E00|sign), `ggml_compute_fp16_to_fp32`, `ggml_compute_fp32_to_bf16` and
 * `ggml_compute_bf16_to_fp32`. Integer arithmetic on the float's bits, so no double rounding.
 */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** fp16 code of the binary32 with bit pattern `w` (a uint32). */
export function fp32BitsToFp16(w: number): number {
  const sign = (w >>> 16) & 0x8000;
  const abs = w & 0x7fffffff;
  if (abs > 0x7f800000) return sign | 0x7e00; // NaN: payload dropped, quiet bit set
  if (abs >= 0x47800000) return sign | 0x7c00; // ≥ 65536 (and inf) overflows to inf
  if (abs >= 0x38800000) {
    // Normal half: rebias the exponent (127 → 15) and round the 13 dropped bits to nearest even.
    // Rounding can carry into the exponent, which is right (it also turns 65520.. into inf).
    const m = abs - 0x38000000;
    return sign | ((m + 0xfff + ((m >>> 13) & 1)) >>> 13);
  }
  // Subnormal half (or zero): the value in units of 2^-24, rounded to nearest even.
  const e = abs >>> 23;
  if (e < 102) return sign; // below 2^-25: rounds to zero (exactly 2^-25 ties to even 0)
  const mant = (abs & 0x7fffff) | 0x800000;
  const shift = 126 - e; // 14..24
  let q = mant >>> shift;
  const rem = mant & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rem > half || (rem === half && (q & 1) !== 0)) q++;
  return sign | q;
}

export function fp32ToFp16(x: number): number {
  f32[0] = x;
  return fp32BitsToFp16(u32[0]!);
}

/** binary32 bit pattern of each fp16 code, as ggml's fp16→fp32 produces it (NaN payload kept, quieted). */
function buildFp16Table(): Uint32Array {
  const t = new Uint32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    let bits: number;
    if (exp === 0x1f) bits = 0x7f800000 | (mant << 13) | (mant !== 0 ? 0x400000 : 0);
    else if (exp !== 0) bits = ((exp + 112) << 23) | (mant << 13);
    else if (mant === 0) bits = 0;
    else {
      // Subnormal half: normalize into a binary32 normal.
      let e = 113, m = mant;
      while ((m & 0x400) === 0) { m <<= 1; e--; }
      bits = (e << 23) | ((m & 0x3ff) << 13);
    }
    t[h] = (sign | bits) >>> 0;
  }
  return t;
}

// Built on first use, not at load: every command that loads the kernel table would otherwise pay
// for 65536 interpreted iterations at start-up, most of them never converting an fp16.
let bitsTable: Uint32Array | undefined;
let floatTable: Float32Array | undefined;

/** binary32 bit pattern of each fp16 code (fetch it once outside a hot loop). */
export function fp16ToFp32BitsTable(): Uint32Array {
  return (bitsTable ??= buildFp16Table());
}

/** fp16 code → value, for arithmetic (every fp16 is exact in binary32); fetch it once outside a hot loop. */
export function fp16ToFp32Table(): Float32Array {
  return (floatTable ??= new Float32Array(fp16ToFp32BitsTable().buffer));
}

export function fp16ToFp32(h: number): number {
  return fp16ToFp32Table()[h & 0xffff]!;
}

/** bf16 code of the binary32 with bit pattern `u` (a uint32). */
export function fp32BitsToBf16(u: number): number {
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) | 64) & 0xffff; // NaN: force quiet
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

export function fp32ToBf16(x: number): number {
  f32[0] = x;
  return fp32BitsToBf16(u32[0]!);
}

export function bf16ToFp32(h: number): number {
  u32[0] = (h & 0xffff) << 16;
  return f32[0]!;
}

/**
 * `x` rounded to the nearest fp16 value, as a number. The group-wise solvers store scales as fp16
 * and the upstream quantizers compute codes with the fp16 value, so every scale goes through this
 * before zeros and codes.
 */
export function roundToHalf(x: number): number {
  return fp16ToFp32(fp32ToFp16(x));
}
