/**
 * Serializes one metadata value (gguf.cpp `gguf_write_to_buf` for a KV). Values are checked
 * against their declared type first (checkValue, called by GgufWriter.addKv): DataView would
 * otherwise wrap 300 into a UINT8 of 44 silently.
 */
import { UsageError } from '../errors.ts';
import type { ByteBuilder } from './byte-builder.ts';
import { GgufValueType, isValueType, type GgufScalar, type GgufScalarType, type GgufValue } from './value-types.ts';

const INT_RANGE: Partial<Record<GgufValueType, [number, number]>> = {
  [GgufValueType.UINT8]: [0, 0xff], [GgufValueType.INT8]: [-0x80, 0x7f],
  [GgufValueType.UINT16]: [0, 0xffff], [GgufValueType.INT16]: [-0x8000, 0x7fff],
  [GgufValueType.UINT32]: [0, 0xffffffff], [GgufValueType.INT32]: [-0x80000000, 0x7fffffff],
};
const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

function bad(key: string, type: GgufValueType, v: unknown): UsageError {
  return new UsageError('BAD_VALUE', `metadata key '${key}': ${String(v)} is not a valid ${GgufValueType[type] ?? type}`);
}

function checkScalar(key: string, type: GgufScalarType, v: GgufScalar): void {
  const range = INT_RANGE[type];
  if (range) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < range[0] || v > range[1]) throw bad(key, type, v);
    return;
  }
  switch (type) {
    case GgufValueType.FLOAT32:
    case GgufValueType.FLOAT64:
      if (typeof v !== 'number') throw bad(key, type, v);
      return;
    case GgufValueType.BOOL:
      if (typeof v !== 'boolean') throw bad(key, type, v);
      return;
    case GgufValueType.STRING:
      if (typeof v !== 'string') throw bad(key, type, v);
      return;
    case GgufValueType.UINT64:
    case GgufValueType.INT64: {
      if (typeof v !== 'bigint' && !(typeof v === 'number' && Number.isSafeInteger(v))) throw bad(key, type, v);
      const x = BigInt(v);
      if (type === GgufValueType.UINT64 ? x < 0n || x > U64_MAX : x < I64_MIN || x > I64_MAX) throw bad(key, type, v);
      return;
    }
    default:
      throw bad(key, type, v);
  }
}

/** Throws a UsageError naming the key if the value does not fit its declared type. */
export function checkValue(key: string, value: GgufValue): void {
  if (!isValueType(value.type)) throw new UsageError('BAD_VALUE', `metadata key '${key}': unknown value type ${value.type}`);
  if (value.type !== GgufValueType.ARRAY) return checkScalar(key, value.type, value.value);
  const { elemType } = value;
  if (elemType === (GgufValueType.ARRAY as number) || !isValueType(elemType)) {
    throw new UsageError('BAD_VALUE', `metadata key '${key}': array elements cannot be of type ${GgufValueType[elemType] ?? elemType}`);
  }
  const items = value.value;
  for (let i = 0; i < items.length; i++) checkScalar(key, elemType, items[i] as GgufScalar);
}

function putScalar(b: ByteBuilder, type: GgufScalarType, v: GgufScalar): void {
  switch (type) {
    case GgufValueType.UINT8: return b.u8(v as number);
    case GgufValueType.INT8: return b.i8(v as number);
    case GgufValueType.UINT16: return b.u16(v as number);
    case GgufValueType.INT16: return b.i16(v as number);
    case GgufValueType.UINT32: return b.u32(v as number);
    case GgufValueType.INT32: return b.i32(v as number);
    case GgufValueType.FLOAT32: return b.f32(v as number);
    case GgufValueType.FLOAT64: return b.f64(v as number);
    case GgufValueType.BOOL: return b.u8(v ? 1 : 0);
    case GgufValueType.STRING: return b.string(v as string);
    case GgufValueType.UINT64: return b.u64(BigInt(v as bigint));
    case GgufValueType.INT64: return b.i64(BigInt(v as bigint));
  }
}

/** Writes `u32 type` then the value; the value must have passed checkValue. */
export function writeValue(b: ByteBuilder, value: GgufValue): void {
  b.u32(value.type);
  if (value.type !== GgufValueType.ARRAY) return putScalar(b, value.type, value.value);
  b.u32(value.elemType);
  const items = value.value;
  b.u64(BigInt(items.length));
  for (let i = 0; i < items.length; i++) putScalar(b, value.elemType, items[i] as GgufScalar);
}
