/**
 * Reads one metadata value (gguf.cpp `gguf_read_emplace_helper`) with llama.cpp's rules plus
 * bounds: strings and arrays are checked against the bytes left in the file before anything is
 * allocated; nested arrays and unknown types are rejected.
 */
import { FIXED_SIZE, GgufValueType, isValueType, type GgufScalar, type GgufScalarType, type GgufValue } from './value-types.ts';
import type { HeaderCursor } from './header-cursor.ts';
import { GgufStringArray } from './string-array.ts';

export interface ReadValueOptions {
  /** String arrays as GgufStringArray (bytes kept, strings decoded on access) instead of string[]. */
  lazyStrings?: boolean;
}

/** A value as read with `lazyStrings`: string arrays are GgufStringArray. */
export type GgufLazyValue = GgufValue | { type: GgufValueType.ARRAY; elemType: GgufValueType.STRING; value: GgufStringArray };

/** gguf.cpp refuses strings and arrays longer than this. */
export const MAX_GGUF_LENGTH = 2 ** 30;

export async function readString(c: HeaderCursor, what: string): Promise<string> {
  return c.utf8(await readStringLength(c, what));
}

/** Reads a string's u64 length, checks it, and buffers that many bytes (the string itself is next). */
async function readStringLength(c: HeaderCursor, what: string): Promise<number> {
  const at = c.pos;
  if (!c.has(8)) await c.need(8, `length of ${what}`);
  const len = c.u64();
  if (len > BigInt(c.remaining) || len > BigInt(MAX_GGUF_LENGTH)) {
    throw c.fail('BAD_LENGTH', `${what} at offset ${at} has length ${len}, more than the ${c.remaining} bytes left in the file`, at);
  }
  const n = Number(len);
  if (!c.has(n)) await c.need(n, what);
  return n;
}

/** A string entirely inside the buffered window, or undefined (then the checked path runs). */
function bufferedString(c: HeaderCursor): string | undefined {
  if (!c.has(8)) return undefined;
  const at = c.pos;
  // The u64 length as two u32 halves: no BigInt per string (a 32k-token vocabulary is 32k of them).
  const lo = c.u32();
  const hi = c.u32();
  if (hi === 0 && lo <= c.remaining && c.has(lo)) return c.utf8(lo);
  c.pos = at; // let readString report or fetch
  return undefined;
}

async function readScalar(c: HeaderCursor, type: GgufScalarType, what: string): Promise<GgufScalar> {
  if (type === GgufValueType.STRING) return readString(c, what);
  await c.need(FIXED_SIZE[type]!, what);
  switch (type) {
    case GgufValueType.UINT8: return c.u8();
    case GgufValueType.INT8: return c.i8();
    case GgufValueType.UINT16: return c.u16();
    case GgufValueType.INT16: return c.i16();
    case GgufValueType.UINT32: return c.u32();
    case GgufValueType.INT32: return c.i32();
    case GgufValueType.FLOAT32: return c.f32();
    case GgufValueType.BOOL: return readBool(c, what);
    case GgufValueType.UINT64: return c.u64();
    case GgufValueType.INT64: return c.i64();
    case GgufValueType.FLOAT64: return c.f64();
  }
}

function readBool(c: HeaderCursor, what: string): boolean {
  const at = c.pos;
  const b = c.u8();
  if (b > 1) throw c.fail('BAD_BOOL', `${what}: bool at offset ${at} is ${b}, not 0 or 1`, at);
  return b === 1;
}

/** Typed-array constructors for numeric arrays: one copy, no per-element objects. */
const TYPED: Partial<Record<GgufValueType, (b: ArrayBuffer, n: number) => ArrayLike<number>>> = {
  [GgufValueType.UINT8]: (b, n) => new Uint8Array(b, 0, n),
  [GgufValueType.INT8]: (b, n) => new Int8Array(b, 0, n),
  [GgufValueType.UINT16]: (b, n) => new Uint16Array(b, 0, n),
  [GgufValueType.INT16]: (b, n) => new Int16Array(b, 0, n),
  [GgufValueType.UINT32]: (b, n) => new Uint32Array(b, 0, n),
  [GgufValueType.INT32]: (b, n) => new Int32Array(b, 0, n),
  [GgufValueType.FLOAT32]: (b, n) => new Float32Array(b, 0, n),
  [GgufValueType.FLOAT64]: (b, n) => new Float64Array(b, 0, n),
};

async function readArray(c: HeaderCursor, what: string, opts: ReadValueOptions): Promise<GgufLazyValue> {
  const at = c.pos;
  await c.need(12, `array header of ${what}`);
  const rawType = c.u32();
  if (rawType === GgufValueType.ARRAY) throw c.fail('NESTED_ARRAY', `${what}: nested arrays are not allowed (offset ${at})`, at);
  if (!isValueType(rawType)) throw c.fail('BAD_VALUE_TYPE', `${what}: unknown array element type ${rawType} at offset ${at}`, at);
  const elemType = rawType as GgufScalarType;
  const count = c.u64();
  const minSize = FIXED_SIZE[elemType] ?? 8; // a string is at least its u64 length
  if (count > BigInt(MAX_GGUF_LENGTH) || count * BigInt(minSize) > BigInt(c.remaining)) {
    throw c.fail('BAD_LENGTH', `${what}: array of ${count} ${GgufValueType[elemType]} at offset ${at} does not fit in the ${c.remaining} bytes left in the file`, at);
  }
  const n = Number(count);
  const typed = TYPED[elemType];
  if (typed) {
    await c.need(n * minSize, what);
    return { type: GgufValueType.ARRAY, elemType, value: typed(c.bytes(n * minSize).buffer as ArrayBuffer, n) };
  }
  if (elemType === GgufValueType.STRING && opts.lazyStrings) return { type: GgufValueType.ARRAY, elemType, value: await walkStrings(c, n, what) };
  const out: GgufScalar[] = new Array(n);
  for (let i = 0; i < n; i++) {
    // Vocabularies hold 100k+ strings: take the ones already buffered without an await each.
    const fast = elemType === GgufValueType.STRING ? bufferedString(c) : undefined;
    out[i] = fast ?? (await readScalar(c, elemType, `${what}[${i}]`));
  }
  return { type: GgufValueType.ARRAY, elemType, value: out };
}

/**
 * The checks and reads of the eager loop above, minus the decoding: each string's length is read
 * and bounds-checked the same way (same errors at the same offsets), its start recorded, its bytes
 * skipped; the cursor keeps the whole region buffered for the GgufStringArray.
 */
async function walkStrings(c: HeaderCursor, n: number, what: string): Promise<GgufStringArray> {
  const base = c.pos;
  const starts = new Uint32Array(n); // offsets into one buffered Uint8Array: they fit in 32 bits
  c.pin();
  let i = 0;
  for (;;) {
    i = c.scanStrings(starts, i, base); // the buffered run, as the eager loop's bufferedString takes it
    if (i === n) break;
    const len = await readStringLength(c, `${what}[${i}]`); // reports a bad length or reads on
    starts[i++] = c.pos - base;
    c.skip(len);
  }
  return new GgufStringArray(c.unpin(), starts);
}

/** Reads `u32 type` then the value. */
export async function readValue(c: HeaderCursor, what: string): Promise<GgufValue>;
export async function readValue(c: HeaderCursor, what: string, opts: ReadValueOptions): Promise<GgufLazyValue>;
export async function readValue(c: HeaderCursor, what: string, opts: ReadValueOptions = {}): Promise<GgufLazyValue> {
  const at = c.pos;
  await c.need(4, `type of ${what}`);
  const type = c.u32();
  if (!isValueType(type)) throw c.fail('BAD_VALUE_TYPE', `${what}: unknown value type ${type} at offset ${at}`, at);
  if (type === GgufValueType.ARRAY) return readArray(c, what, opts);
  return { type, value: await readScalar(c, type, what) };
}
