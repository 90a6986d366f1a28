/**
 * What the reference kernels (quant-table.ts) can do for each ggml type, as data: whether a
 * plain quantizer, an importance-matrix quantizer and a dequantizer exist, and whether ggml
 * requires an importance matrix (`ggml_quantize_requires_imatrix`). Plans and the fast path ask
 * these questions without loading the kernels themselves (30-odd modules and the i-quant grids,
 * ~35 ms of every quantize's start-up); quant-table.ts checks at load that its rows say the same.
 */
import { GgmlTypeId as T } from './ggml-types.ts';

export interface QuantSupport {
  quantize: boolean;
  imatrix: boolean;
  dequantize: boolean;
  requiresImatrix: boolean;
}

const row = (quantize: boolean, imatrix: boolean, dequantize = true, requiresImatrix = false): QuantSupport => ({ quantize, imatrix, dequantize, requiresImatrix });

/** By type id; types absent here have no reference kernel at all. */
export const QUANT_SUPPORT: ReadonlyMap<number, Readonly<QuantSupport>> = new Map([
  [T.F32, row(true, false)], [T.F16, row(true, false)], [T.BF16, row(true, false)],
  [T.Q8_0, row(true, false)], [T.MXFP4, row(true, false)],
  [T.Q4_0, row(true, true)], [T.Q4_1, row(true, true)], [T.Q5_0, row(true, true)], [T.Q5_1, row(true, true)],
  [T.Q2_K, row(true, true)], [T.Q3_K, row(true, true)], [T.Q4_K, row(true, true)], [T.Q5_K, row(true, true)], [T.Q6_K, row(true, true)],
  [T.Q8_K, row(false, false)],
  [T.IQ4_NL, row(true, true)], [T.IQ4_XS, row(true, true)], [T.IQ3_XXS, row(true, true)], [T.IQ3_S, row(true, true)],
  [T.IQ1_M, row(true, true)], [T.IQ2_S, row(true, true)],
  [T.IQ1_S, row(false, true, true, true)], [T.IQ2_XXS, row(false, true, true, true)], [T.IQ2_XS, row(false, true, true, true)],
]);

/** A quantizer exists, with or without an importance matrix (see `requiresImatrix`). */
export function canQuantize(typeId: number): boolean {
  const s = QUANT_SUPPORT.get(typeId);
  return !!s && (s.quantize || s.imatrix);
}

/** The type's quantizer takes importance weights (others ignore them, as ggml's do). */
export function hasImatrixQuantizer(typeId: number): boolean {
  return QUANT_SUPPORT.get(typeId)?.imatrix === true;
}

/** `ggml_quantize_requires_imatrix`: the type cannot be quantized without an importance matrix. */
export function requiresImatrix(typeId: number): boolean {
  return QUANT_SUPPORT.get(typeId)?.requiresImatrix === true;
}

export function canDequantize(typeId: number): boolean {
  return QUANT_SUPPORT.get(typeId)?.dequantize === true;
}
