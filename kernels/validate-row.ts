/**
 * `ggml_validate_row_data` (ggml-quants.c): a row is invalid when one of its floats is NaN or
 * ±Inf: a plain type's element, or a block's fp16 scale (d, m, dmin…). Which bytes those are comes
 * from the block layout table, so no offset is written here. The bit test itself is in
 * nonfinite-fields.mjs (plain JS, shared with the pool workers); it allocates nothing: it runs on
 * every chunk written.
 */
import { floatFields, type BlockField } from './block-layouts.ts';
import { firstNonFiniteField } from './nonfinite-fields.mjs';
import type { GgmlType } from './ggml-types.ts';

/** Index of the first block (element, for plain types) of `bytes` with a NaN/Inf float field, or −1. */
export function firstNonFiniteBlock(t: GgmlType, bytes: Uint8Array): number {
  const fields: readonly BlockField[] = t.layout ? floatFields(t.layout) : [];
  return firstNonFiniteField(fields, t.typeSize, bytes, 0, Math.floor(bytes.length / t.typeSize));
}

/** The first row (of `nPerRow` elements) that `ggml_validate_row_data` would reject, or −1. */
export function firstInvalidRow(t: GgmlType, bytes: Uint8Array, nPerRow: number): number {
  const b = firstNonFiniteBlock(t, bytes);
  return b < 0 ? -1 : Math.floor(b / (nPerRow / t.blockSize));
}
