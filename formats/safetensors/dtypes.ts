/**
 * The safetensors element types we read and write, their sizes, and widening to float32.
 * safetensors stores every element little-endian; the hosts we run on (x64, arm64) are
 * little-endian too, so aligned inputs are viewed in place rather than decoded one by one.
 */

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'I32' | 'I8' | 'U8' | 'F64' | 'I64';

const SIZES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2, I32: 4, I8: 1, U8: 1, F64: 8, I64: 8 };

export const SAFETENSORS_DTYPES = Object.keys(SIZES) as SafetensorsDtype[];

/**
 * Dtypes the safetensors format defines but we do not handle. A file using one is well-formed
 * (UnsupportedError), whereas any other string is a malformed header (FormatError).
 */
export const KNOWN_UNSUPPORTED_DTYPES: readonly string[] = [
  'BOOL', 'U16', 'I16', 'U32', 'U64', 'F8_E4M3', 'F8_E5M2', 'F8_E8M0', 'F6_E2M3', 'F6_E3M2', 'F4', 'C64',
];

export function isSafetensorsDtype(s: unknown): s is SafetensorsDtype {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(SIZES, s);
}

/** Bytes per element. */
export function dtypeSize(d: SafetensorsDtype): number {
  const size = SIZES[d];
  if (size === undefined) throw new RangeError(`not a safetensors dtype: ${String(d)}`);
  return size;
}

/** View `bytes` as a typed array of `Ctor`, copying only when the offset is misaligned. */
function view<T>(bytes: Uint8Array, size: number, make: (buf: ArrayBufferLike, off: number, n: number) => T): T {
  if (bytes.length % size !== 0) throw new RangeError(`byte length ${bytes.length} is not a multiple of element size ${size}`);
  const src = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
  return make(src.buffer, src.byteOffset, src.length / size);
}

let f16Table: Float32Array | undefined;

/** All 65536 half-precision values widened to float32 (exact: every f16 value is an f32 value). */
function halfTable(): Float32Array {
  if (f16Table) return f16Table;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) t[h] = sign * mant * 2 ** -24; // zero and subnormals
    else if (exp === 31) t[h] = mant ? NaN : sign * Infinity;
    else t[h] = sign * (1024 + mant) * 2 ** (exp - 25);
  }
  return (f16Table = t);
}

/**
 * Widen raw little-endian elements to float32. F16 and BF16 are exact; F64 and large
 * I32/I64 values round to nearest float32.
 */
export function toFloat32(dtype: SafetensorsDtype, bytes: Uint8Array): Float32Array {
  switch (dtype) {
    case 'F32':
      return view(bytes, 4, (b, o, n) => new Float32Array(b, o, n)).slice();
    case 'F16': {
      const h = view(bytes, 2, (b, o, n) => new Uint16Array(b, o, n));
      const table = halfTable();
      const out = new Float32Array(h.length);
      for (let i = 0; i < h.length; i++) out[i] = table[h[i]];
      return out;
    }
    case 'BF16': {
      // bf16 is the top half of an f32: shifting the bits into place is exact, NaNs included.
      const h = view(bytes, 2, (b, o, n) => new Uint16Array(b, o, n));
      const out = new Uint32Array(h.length);
      for (let i = 0; i < h.length; i++) out[i] = h[i] << 16;
      return new Float32Array(out.buffer);
    }
    case 'F64':
      return Float32Array.from(view(bytes, 8, (b, o, n) => new Float64Array(b, o, n)));
    case 'I32':
      return Float32Array.from(view(bytes, 4, (b, o, n) => new Int32Array(b, o, n)));
    case 'I8':
      return Float32Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length));
    case 'U8':
      return Float32Array.from(bytes);
    case 'I64': {
      const v = view(bytes, 8, (b, o, n) => new BigInt64Array(b, o, n));
      const out = new Float32Array(v.length);
      for (let i = 0; i < v.length; i++) out[i] = Number(v[i]);
      return out;
    }
    default:
      throw new RangeError(`not a safetensors dtype: ${String(dtype)}`);
  }
}
