/**
 * Serializes one metadata value (gguf.cpp `gguf_write_to_buf` for a KV). Values are range-checked
 * against their declared type: DataView would otherwise wrap 300 into a UINT8 of 44 silently.
 */
import { UsageError } from '../errors.ts';
import { ByteBuilder } from './byte-builder.ts';
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

function writeScalar(b: ByteBuilder, key: string, type: GgufScalarType, v: GgufScalar): void {
  const range = INT_RANGE[type];
  if (range) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < range[0] || v > range[1]) throw bad(key, type, v);
  }
  switch (type) {
    case GgufValueType.UINT8: return b.u8(v as number);
    case GgufValueType.INT8: return b.i8(v as number);
    case GgufValueType.UINT16: return b.u16(v as number);
    case GgufValueType.INT16: return b.i16(v as number);
    case GgufValueType.UINT32: return b.u32(v as number);
    case GgufValueType.INT32: return b.i32(v as number);
    case GgufValueType.FLOAT32:
    case GgufValueType.FLOAT64:
      if (typeof v !== 'number') throw bad(key, type, v);
      return type === GgufValueType.FLOAT32 ? b.f32(v) : b.f64(v);
    case GgufValueType.BOOL:
      if (typeof v !== 'boolean') throw bad(key, type, v);
      return b.u8(v ? 1 : 0);
    case GgufValueType.STRING:
      if (typeof v !== 'string') throw bad(key, type, v);
      return b.string(v);
    case GgufValueType.UINT64:
    case GgufValueType.INT64: {
      if (typeof v !== 'bigint' && !(typeof v === 'number' && Number.isSafeInteger(v))) throw bad(key, type, v);
      const x = BigInt(v);
      if (type === GgufValueType.UINT64 ? x < 0n || x > U64_MAX : x < I64_MIN || x > I64_MAX) throw bad(key, type, v);
      return type === GgufValueType.UINT64 ? b.u64(x) : b.i64(x);
    }
  }
}

/** Checks a value's shape without writing it (used by addKv, so errors surface at the call site). */
export function checkValue(key: string, value: GgufValue): void {
  writeValue(new ByteBuilder(), key, value);
}

/** Writes `u32 type` then the value. */
export function writeValue(b: ByteBuilder, key: string, value: GgufValue): void {
  if (!isValueType(value.type)) throw new UsageError('BAD_VALUE', `metadata key '${key}': unknown value type ${value.type}`);
  b.u32(value.type);
  if (value.type !== GgufValueType.ARRAY) return writeScalar(b, key, value.type, value.value);
  const { elemType } = value;
  if (elemType === (GgufValueType.ARRAY as number) || !isValueType(elemType)) {
    throw new UsageError('BAD_VALUE', `metadata key '${key}': array elements cannot be of type ${GgufValueType[elemType] ?? elemType}`);
  }
  b.u32(elemType);
  const items = value.value;
  b.u64(BigInt(items.length));
  for (let i = 0; i < items.length; i++) writeScalar(b, key, elemType, items[i] as GgufScalar);
}
