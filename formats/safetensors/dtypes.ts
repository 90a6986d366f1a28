/**
 * The safetensors element types we read and write, their sizes, and widening to float32.
 * safetensors stores every element little-endian; the hosts we run on (x64, arm64) are
 * little-endian too, so aligned inputs are viewed in place rather than decoded one by one.
 * 16-bit floats widen through the kernels' row conversions (kernels/ref/float-rows.ts).
 */
import { widenRowBF16, widenRowF16, widenRowF32 } from '../../kernels/ref/float-rows.ts';

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

const WIDEN = { F32: widenRowF32, F16: widenRowF16, BF16: widenRowBF16 } as const;

/**
 * Widens little-endian F32/F16/BF16 elements into `out` (exact, NaN bits kept, no allocation) with
 * the kernels' own row conversions (`ggml_fp16_to_fp32_row`, `ggml_bf16_to_fp32_row`).
 */
export function widenFloatsInto(dtype: 'F32' | 'F16' | 'BF16', bytes: Uint8Array, out: Float32Array): void {
  WIDEN[dtype](bytes, 0, out, 0, bytes.length / SIZES[dtype]);
}

/**
 * Widen raw little-endian elements to float32. F16 and BF16 are exact; F64 and large
 * I32/I64 values round to nearest float32.
 */
export function toFloat32(dtype: SafetensorsDtype, bytes: Uint8Array): Float32Array {
  switch (dtype) {
    case 'F32':
    case 'F16':
    case 'BF16': {
      const size = SIZES[dtype];
      if (bytes.length % size !== 0) throw new RangeError(`byte length ${bytes.length} is not a multiple of element size ${size}`);
      const out = new Float32Array(bytes.length / size);
      widenFloatsInto(dtype, bytes, out);
      return out;
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
