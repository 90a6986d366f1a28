/**
 * GGUF metadata value types (gguf.h `enum gguf_type`) and small constructors for typed values.
 * The type travels with every value because llama.cpp type-checks keys exactly: a u32 stored
 * as i32 makes the model fail to load.
 */
export enum GgufValueType { UINT8 = 0, INT8, UINT16, INT16, UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY, UINT64, INT64, FLOAT64 }

export type GgufScalarType = Exclude<GgufValueType, GgufValueType.ARRAY>;
export type GgufScalar = number | bigint | boolean | string;

export type GgufValue =
  | { type: GgufScalarType; value: GgufScalar } // UINT64/INT64 values are bigint
  | { type: GgufValueType.ARRAY; elemType: GgufScalarType; value: readonly GgufScalar[] | ArrayLike<number> };

export type GgufKv = { key: string } & GgufValue;

/** Encoded size of one scalar of a fixed-size type; strings are variable (undefined). */
export const FIXED_SIZE: Readonly<Partial<Record<GgufValueType, number>>> = {
  [GgufValueType.UINT8]: 1, [GgufValueType.INT8]: 1, [GgufValueType.BOOL]: 1,
  [GgufValueType.UINT16]: 2, [GgufValueType.INT16]: 2,
  [GgufValueType.UINT32]: 4, [GgufValueType.INT32]: 4, [GgufValueType.FLOAT32]: 4,
  [GgufValueType.UINT64]: 8, [GgufValueType.INT64]: 8, [GgufValueType.FLOAT64]: 8,
};

export function isValueType(n: number): n is GgufValueType {
  return Number.isInteger(n) && n >= 0 && n <= GgufValueType.FLOAT64;
}

export const u8 = (v: number): GgufValue => ({ type: GgufValueType.UINT8, value: v });
export const i8 = (v: number): GgufValue => ({ type: GgufValueType.INT8, value: v });
export const u16 = (v: number): GgufValue => ({ type: GgufValueType.UINT16, value: v });
export const i16 = (v: number): GgufValue => ({ type: GgufValueType.INT16, value: v });
export const u32 = (v: number): GgufValue => ({ type: GgufValueType.UINT32, value: v });
export const i32 = (v: number): GgufValue => ({ type: GgufValueType.INT32, value: v });
export const f32 = (v: number): GgufValue => ({ type: GgufValueType.FLOAT32, value: v });
export const f64 = (v: number): GgufValue => ({ type: GgufValueType.FLOAT64, value: v });
export const bool = (v: boolean): GgufValue => ({ type: GgufValueType.BOOL, value: v });
export const str = (v: string): GgufValue => ({ type: GgufValueType.STRING, value: v });
export const u64 = (v: bigint | number): GgufValue => ({ type: GgufValueType.UINT64, value: BigInt(v) });
export const i64 = (v: bigint | number): GgufValue => ({ type: GgufValueType.INT64, value: BigInt(v) });
export const arr = (elemType: GgufScalarType, values: readonly GgufScalar[] | ArrayLike<number>): GgufValue => ({
  type: GgufValueType.ARRAY,
  elemType,
  value: values,
});
