/**
 * `ggml_validate_row_data` (ggml-quants.c): a row is invalid when one of its floats is NaN or
 * ±Inf: a plain type's element, or a block's fp16 scale (d, m, dmin…). Which bytes those are comes
 * from the block layout table, so no offset is written here. The checks read the exponent bits
 * byte by byte (little-endian, any alignment) and allocate nothing: they run on every chunk written.
 */
import { floatFields, type BlockField, type FieldKind } from './block-layouts.ts';
import type { GgmlType } from './ggml-types.ts';

/** True when the float of `kind` stored at `o` has an all-ones exponent (NaN or ±Inf). */
function nonFiniteAt(kind: FieldKind, b: Uint8Array, o: number): boolean {
  switch (kind) {
    case 'f16':
      return (b[o + 1]! & 0x7c) === 0x7c;
    case 'bf16':
      return (b[o + 1]! & 0x7f) === 0x7f && (b[o]! & 0x80) !== 0;
    case 'f32':
      return (b[o + 3]! & 0x7f) === 0x7f && (b[o + 2]! & 0x80) !== 0;
    case 'f64':
      return (b[o + 7]! & 0x7f) === 0x7f && (b[o + 6]! & 0xf0) === 0xf0;
    default:
      return false;
  }
}

/** Index of the first block (element, for plain types) of `bytes` with a NaN/Inf float field, or −1. */
export function firstNonFiniteBlock(t: GgmlType, bytes: Uint8Array): number {
  const fields: readonly BlockField[] = t.layout ? floatFields(t.layout) : [];
  const size = t.typeSize;
  const nb = Math.floor(bytes.length / size);
  if (fields.length === 1) {
    // One float per block (every type but the min/max ones): a tight strided loop.
    const { kind, offset } = fields[0]!;
    for (let b = 0, o = offset; b < nb; b++, o += size) if (nonFiniteAt(kind, bytes, o)) return b;
    return -1;
  }
  for (let b = 0; b < nb; b++) for (const f of fields) if (nonFiniteAt(f.kind, bytes, b * size + f.offset)) return b;
  return -1;
}

/** The first row (of `nPerRow` elements) that `ggml_validate_row_data` would reject, or −1. */
export function firstInvalidRow(t: GgmlType, bytes: Uint8Array, nPerRow: number): number {
  const b = firstNonFiniteBlock(t, bytes);
  return b < 0 ? -1 : Math.floor(b / (nPerRow / t.blockSize));
}
