/**
 * Every ggml block as data: its fields in order, as the `block_*` structs of ggml-common.h declare
 * them (the way candle's block structs mirror them too). A type's size in bytes (`typeSize` in
 * kernels/ggml-types.ts) is the sum of its fields, so the geometry is written here and nowhere else:
 * the kernels, the wasm workers, row validation (kernels/validate-row.ts) and `inspect --block`
 * (formats/gguf/block-layouts.ts) all read it from this table.
 *
 * Plain types (F32, F16, …) are one-element "blocks" with a single field `value`.
 */

/** How a field's bytes are read: `f16` fields are ggml_half (the scales llama.cpp validates). */
export type FieldKind = 'f16' | 'bf16' | 'f32' | 'f64' | 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'i64';

export interface BlockField {
  readonly name: string;
  /** Byte offset in the block. */
  readonly offset: number;
  /** Bytes the field takes (elements × element size). */
  readonly width: number;
  readonly kind: FieldKind;
}

export interface BlockLayout {
  /** ggml type name (`Q4_K`). */
  readonly name: string;
  readonly fields: readonly BlockField[];
  /** Bytes per block: the sum of the fields' widths (no padding: ggml blocks are packed). */
  readonly size: number;
}

const KIND_BYTES: Record<FieldKind, number> = { f16: 2, bf16: 2, f32: 4, f64: 8, u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, i64: 8 };

/** Bytes of one element of a field kind. */
export const kindBytes = (k: FieldKind): number => KIND_BYTES[k];

/** `[name, kind, count]`: a struct member, `count` elements long (1 when omitted). */
type Member = readonly [name: string, kind: FieldKind, count?: number];

function struct(name: string, ...members: Member[]): BlockLayout {
  let offset = 0;
  const fields = members.map(([field, kind, count = 1]) => {
    const f = Object.freeze({ name: field, offset, width: count * KIND_BYTES[kind], kind });
    offset += f.width;
    return f;
  });
  return Object.freeze({ name, fields: Object.freeze(fields), size: offset });
}

const QK_K = 256;

const LAYOUTS: readonly BlockLayout[] = [
  struct('F32', ['value', 'f32']),
  struct('F16', ['value', 'f16']),
  struct('BF16', ['value', 'bf16']),
  struct('F64', ['value', 'f64']),
  struct('I8', ['value', 'i8']),
  struct('I16', ['value', 'i16']),
  struct('I32', ['value', 'i32']),
  struct('I64', ['value', 'i64']),
  struct('Q4_0', ['d', 'f16'], ['qs', 'u8', 16]),
  struct('Q4_1', ['d', 'f16'], ['m', 'f16'], ['qs', 'u8', 16]),
  struct('Q5_0', ['d', 'f16'], ['qh', 'u32'], ['qs', 'u8', 16]),
  struct('Q5_1', ['d', 'f16'], ['m', 'f16'], ['qh', 'u32'], ['qs', 'u8', 16]),
  struct('Q8_0', ['d', 'f16'], ['qs', 'i8', 32]),
  struct('Q8_1', ['d', 'f16'], ['s', 'f16'], ['qs', 'i8', 32]),
  struct('Q1_0', ['d', 'f16'], ['qs', 'u8', 128 / 8]),
  struct('Q2_0', ['d', 'f16'], ['qs', 'u8', 64 / 4]),
  struct('MXFP4', ['e', 'u8'], ['qs', 'u8', 16]),
  struct('NVFP4', ['d', 'u8', 4], ['qs', 'u8', 32]),
  struct('TQ1_0', ['qs', 'u8', (QK_K - (4 * QK_K) / 64) / 5], ['qh', 'u8', QK_K / 64], ['d', 'f16']),
  struct('TQ2_0', ['qs', 'u8', QK_K / 4], ['d', 'f16']),
  struct('Q2_K', ['scales', 'u8', QK_K / 16], ['qs', 'u8', QK_K / 4], ['d', 'f16'], ['dmin', 'f16']),
  struct('Q3_K', ['hmask', 'u8', QK_K / 8], ['qs', 'u8', QK_K / 4], ['scales', 'u8', 12], ['d', 'f16']),
  struct('Q4_K', ['d', 'f16'], ['dmin', 'f16'], ['scales', 'u8', 12], ['qs', 'u8', QK_K / 2]),
  struct('Q5_K', ['d', 'f16'], ['dmin', 'f16'], ['scales', 'u8', 12], ['qh', 'u8', QK_K / 8], ['qs', 'u8', QK_K / 2]),
  struct('Q6_K', ['ql', 'u8', QK_K / 2], ['qh', 'u8', QK_K / 4], ['scales', 'i8', QK_K / 16], ['d', 'f16']),
  struct('Q8_K', ['d', 'f32'], ['qs', 'i8', QK_K], ['bsums', 'i16', QK_K / 16]),
  struct('IQ2_XXS', ['d', 'f16'], ['qs', 'u16', QK_K / 8]),
  struct('IQ2_XS', ['d', 'f16'], ['qs', 'u16', QK_K / 8], ['scales', 'u8', QK_K / 32]),
  struct('IQ2_S', ['d', 'f16'], ['qs', 'u8', QK_K / 4], ['qh', 'u8', QK_K / 32], ['scales', 'u8', QK_K / 32]),
  struct('IQ3_XXS', ['d', 'f16'], ['qs', 'u8', (3 * QK_K) / 8]),
  struct('IQ3_S', ['d', 'f16'], ['qs', 'u8', QK_K / 4], ['qh', 'u8', QK_K / 32], ['signs', 'u8', QK_K / 8], ['scales', 'u8', QK_K / 64]),
  struct('IQ1_S', ['d', 'f16'], ['qs', 'u8', QK_K / 8], ['qh', 'u16', QK_K / 32]),
  // IQ1_M keeps its fp16 scale spread over the top nibbles of `scales` (iq1m_scale_t).
  struct('IQ1_M', ['qs', 'u8', QK_K / 8], ['qh', 'u8', QK_K / 16], ['scales', 'u8', QK_K / 32]),
  struct('IQ4_NL', ['d', 'f16'], ['qs', 'u8', 16]),
  struct('IQ4_XS', ['d', 'f16'], ['scales_h', 'u16'], ['scales_l', 'u8', QK_K / 64], ['qs', 'u8', QK_K / 2]),
];

const byName = new Map(LAYOUTS.map((l) => [l.name, l]));

/** The layout of a type by its ggml name, or undefined for a type ggml does not define a block for. */
export function blockLayout(name: string): BlockLayout | undefined {
  return byName.get(name.toUpperCase());
}

/** A layout that must exist (the kernels' own types). */
export function layoutOf(name: string): BlockLayout {
  const l = byName.get(name);
  if (!l) throw new Error(`no block layout for ggml type ${name}`);
  return l;
}

/** A named field of a layout; throws if the struct has no such member. */
export function field(layout: BlockLayout, name: string): BlockField {
  const f = layout.fields.find((x) => x.name === name);
  if (!f) throw new Error(`block_${layout.name} has no field ${name}`);
  return f;
}

const FLOAT_KINDS: ReadonlySet<FieldKind> = new Set(['f16', 'bf16', 'f32', 'f64']);

/** The single-element float fields of a block (fp16 scales, or a plain type's value): what `ggml_validate_row_data` checks. */
export function floatFields(layout: BlockLayout): BlockField[] {
  return layout.fields.filter((f) => FLOAT_KINDS.has(f.kind) && f.width === KIND_BYTES[f.kind]);
}
