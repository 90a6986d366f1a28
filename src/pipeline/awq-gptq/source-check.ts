/**
 * AWQ/GPTQ sources are checked for NaN/Inf as they are read, as the GGUF path does: before a layer
 * is quantized and packed, with the source file and tensor named (exit 4), rather than found in the
 * written folder after the whole pack.
 */
import { FormatError } from '../../../formats/errors.ts';
import type { SafetensorsTensor } from '../../../formats/safetensors/header.ts';

/** Float dtypes whose values can be NaN/Inf (integer tensors are copied as they are). */
export const FLOAT_DTYPES: ReadonlySet<string> = new Set(['F64', 'F32', 'F16', 'BF16']);

/** Throws a FormatError naming the file, tensor, row and column of the first NaN/Inf in `values`. */
export function assertFiniteSource(t: SafetensorsTensor, values: Float32Array, firstElement = 0): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) continue;
    const element = firstElement + i;
    const cols = t.shape.length > 1 ? t.shape.slice(1).reduce((a, b) => a * b, 1) : Math.max(1, t.shape[0] ?? 1);
    throw new FormatError(
      'NON_FINITE',
      `${t.file}: tensor '${t.name}' has ${v} at element ${element} (row ${Math.floor(element / cols)}, column ${element % cols}); refusing to quantize non-finite weights`,
      { file: t.file, tensor: t.name },
    );
  }
}
