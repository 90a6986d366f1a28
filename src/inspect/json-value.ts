/**
 * JSON has no bigint: UINT64/INT64 values become numbers when they are exactly representable
 * (|v| <= 2^53 - 1) and decimal strings otherwise, so `inspect --json` never loses a digit and
 * never throws. Typed arrays become plain arrays.
 */
export type JsonScalar = number | string | boolean | null;
export type JsonValue = JsonScalar | JsonValue[] | { [k: string]: JsonValue };

export function jsonScalar(v: unknown): JsonScalar {
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v); // NaN/Infinity are not JSON
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  return v === null || v === undefined ? null : String(v);
}

export function jsonArray(values: ArrayLike<unknown>, limit = Infinity): JsonScalar[] {
  const n = Math.min(values.length, limit);
  const out: JsonScalar[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = jsonScalar(values[i]);
  return out;
}
