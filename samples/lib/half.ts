/**
 * float32 → float16 / bfloat16 bit patterns with round-to-nearest-even, for writing the generated
 * weights. (The samples keep their own small copy so they depend on nothing under kernels/.)
 */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half bits of `x`, rounded to nearest even; overflow gives ±inf, NaN stays a quiet NaN. */
export function f32ToF16Bits(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 112; // rebias 127 → 15
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Result is subnormal (or zero): value = m·2^(exp-150) = q·2^-24, so q = m >> (14 - e).
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    return sign | roundShift(m, shift);
  }
  // A carry out of the mantissa correctly bumps the exponent (up to inf).
  return sign | (((e << 10) | (mant >>> 13)) + roundBit(mant, 13, (mant >>> 13) & 1));
}

/** bfloat16 bits of `x`: the top 16 bits of the float32, rounded to nearest even. */
export function f32ToBf16Bits(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  if ((bits & 0x7fffffff) > 0x7f800000) return (bits >>> 16) | 0x40; // keep NaN a (quiet) NaN
  return (bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16;
}

function roundShift(m: number, shift: number): number {
  const q = m >>> shift;
  return q + roundBit(m, shift, q & 1);
}

/** 1 if dropping the low `shift` bits of `m` must round up (above half, or exactly half and odd). */
function roundBit(m: number, shift: number, odd: number): number {
  const rest = m & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return rest > half || (rest === half && odd) ? 1 : 0;
}

/** Convert a whole array to raw little-endian bytes of the given dtype. */
export function encodeFloats(values: Float32Array, dtype: 'F32' | 'F16' | 'BF16'): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  const out = new Uint16Array(values.length);
  const conv = dtype === 'F16' ? f32ToF16Bits : f32ToBf16Bits;
  for (let i = 0; i < values.length; i++) out[i] = conv(values[i]);
  return new Uint8Array(out.buffer);
}
