/**
 * The ggml tensor type table, as data (ggml's `type_traits` in ggml.c; ids and sizes from
 * ggml-common.h, checked against llama.cpp's own `ggml_get_type_traits` in test/ggml-types.test.ts).
 *
 * One row per GGUF `ggml_type` id. Quantize/dequantize functions plug into the `kernels` map
 * (kernels/quant-table.ts) keyed by the same id, so this file stays pure data that `formats/` and the
 * UI can import without pulling in any kernel code. Bytes per block are not written here: they are
 * the size of the type's block struct in kernels/block-layouts.ts.
 */
import { blockLayout, type BlockLayout } from './block-layouts.ts';

export interface GgmlType {
  readonly id: number;
  /** Upper-case name as llama.cpp prints it (`Q5_K`, `F16`, `IQ4_XS`). */
  readonly name: string;
  /** Elements per block (1 for plain types). */
  readonly blockSize: number;
  /** Bytes per block: the size of `layout`. */
  readonly typeSize: number;
  /** The block struct's fields (ggml-common.h). */
  readonly layout: BlockLayout;
  /** True for block-quantized types. */
  readonly quantized: boolean;
  /** Runtime-only or intermediate types that never appear in model files written by llama.cpp. */
  readonly note?: string;
}

function row(id: number, name: string, blockSize: number, quantized: boolean, note?: string): GgmlType {
  const layout = blockLayout(name);
  if (!layout) throw new Error(`ggml type ${name} has no block layout`);
  return Object.freeze({ id, name, blockSize, typeSize: layout.size, layout, quantized, ...(note ? { note } : {}) });
}

export const GGML_TYPES: readonly GgmlType[] = Object.freeze([
  row(0, 'F32', 1, false),
  row(1, 'F16', 1, false),
  row(2, 'Q4_0', 32, true),
  row(3, 'Q4_1', 32, true),
  row(6, 'Q5_0', 32, true),
  row(7, 'Q5_1', 32, true),
  row(8, 'Q8_0', 32, true),
  row(9, 'Q8_1', 32, true, 'runtime only'),
  row(10, 'Q2_K', 256, true),
  row(11, 'Q3_K', 256, true),
  row(12, 'Q4_K', 256, true),
  row(13, 'Q5_K', 256, true),
  row(14, 'Q6_K', 256, true),
  row(15, 'Q8_K', 256, true, 'intermediate only'),
  row(16, 'IQ2_XXS', 256, true),
  row(17, 'IQ2_XS', 256, true),
  row(18, 'IQ3_XXS', 256, true),
  row(19, 'IQ1_S', 256, true),
  row(20, 'IQ4_NL', 32, true),
  row(21, 'IQ3_S', 256, true),
  row(22, 'IQ2_S', 256, true),
  row(23, 'IQ4_XS', 256, true),
  row(24, 'I8', 1, false),
  row(25, 'I16', 1, false),
  row(26, 'I32', 1, false),
  row(27, 'I64', 1, false),
  row(28, 'F64', 1, false),
  row(29, 'IQ1_M', 256, true),
  row(30, 'BF16', 1, false),
  row(34, 'TQ1_0', 256, true),
  row(35, 'TQ2_0', 256, true),
  row(39, 'MXFP4', 32, true),
  row(40, 'NVFP4', 64, true),
  row(41, 'Q1_0', 128, true),
  row(42, 'Q2_0', 64, true),
]);

const byId = new Map(GGML_TYPES.map((t) => [t.id, t]));
const byName = new Map(GGML_TYPES.map((t) => [t.name.toUpperCase(), t]));

/** Named ids for the types code refers to directly. */
export const GgmlTypeId = {
  F32: 0, F16: 1, Q4_0: 2, Q4_1: 3, Q5_0: 6, Q5_1: 7, Q8_0: 8, Q8_1: 9,
  Q2_K: 10, Q3_K: 11, Q4_K: 12, Q5_K: 13, Q6_K: 14, Q8_K: 15,
  IQ2_XXS: 16, IQ2_XS: 17, IQ3_XXS: 18, IQ1_S: 19, IQ4_NL: 20, IQ3_S: 21, IQ2_S: 22, IQ4_XS: 23,
  I8: 24, I16: 25, I32: 26, I64: 27, F64: 28, IQ1_M: 29, BF16: 30,
  TQ1_0: 34, TQ2_0: 35, MXFP4: 39, NVFP4: 40, Q1_0: 41, Q2_0: 42,
} as const;
export type GgmlTypeName = keyof typeof GgmlTypeId;

export function ggmlType(id: number): GgmlType | undefined {
  return byId.get(id);
}

/** Looks a type up by name, case-insensitively (`q5_k` → Q5_K). */
export function ggmlTypeByName(name: string): GgmlType | undefined {
  return byName.get(name.toUpperCase());
}

/** Bits per weight: 8 · bytes per block / elements per block. */
export function bitsPerWeight(t: GgmlType): number {
  return (8 * t.typeSize) / t.blockSize;
}

/** Bytes of one row of `nPerRow` elements; throws if the row is not whole blocks. */
export function rowSize(t: GgmlType, nPerRow: number): number {
  if (nPerRow % t.blockSize !== 0) throw new RangeError(`${t.name}: row of ${nPerRow} is not a multiple of block size ${t.blockSize}`);
  return (nPerRow / t.blockSize) * t.typeSize;
}

/** Bytes of a tensor with GGUF dims `ne` (ne[0] = row length). Uses bigint: products can exceed 2^53. */
export function tensorBytes(t: GgmlType, ne: readonly (number | bigint)[]): bigint {
  const n0 = BigInt(ne[0] ?? 1);
  if (n0 % BigInt(t.blockSize) !== 0n) throw new RangeError(`${t.name}: ne[0]=${n0} is not a multiple of block size ${t.blockSize}`);
  let bytes = (n0 / BigInt(t.blockSize)) * BigInt(t.typeSize);
  for (let i = 1; i < ne.length; i++) bytes *= BigInt(ne[i]!);
  return bytes;
}
