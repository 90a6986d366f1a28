/**
 * The write stage's checks on tensor data, with messages that name the tensor and the element or
 * row. The bit-level tests are the kernels' (kernels/validate-row.ts); this file only turns their
 * answers into typed errors.
 */
import { FormatError, ValidationError } from '../../formats/errors.ts';
import { ggmlType, GgmlTypeId } from '../../kernels/ggml-types.ts';
import { bf16ToFp32, fp16ToFp32 } from '../../kernels/fp16.ts';
import { firstInvalidRow, firstNonFiniteBlock } from '../../kernels/validate-row.ts';
import type { TensorPlan } from '../policy/type-policy.ts';

export function nonFiniteError(p: TensorPlan, element: number, value: number): FormatError {
  const row = Math.floor(element / p.ne[0]!);
  return new FormatError('NON_FINITE', `tensor '${p.name}' has ${value} at element ${element} (row ${row}, column ${element % p.ne[0]!}); refusing to quantize non-finite weights`, { tensor: p.name });
}

/** Index of the first NaN/Inf among the first n floats, or −1. */
export function firstNonFinite(x: Float32Array, n: number): number {
  for (let i = 0; i < n; i++) if (!Number.isFinite(x[i]!)) return i;
  return -1;
}

/**
 * `ggml_validate_row_data` on freshly quantized rows (starting at row `firstRow`): a NaN/Inf fp16
 * scale means the input overflowed the type, which llama.cpp rejects.
 */
export function checkQuantizedRows(p: TensorPlan, out: Uint8Array, firstRow: number): void {
  const bad = firstInvalidRow(ggmlType(p.targetType)!, out, p.ne[0]!);
  if (bad >= 0) throw quantOverflowError(p, firstRow + bad);
}

/** Row `row` of the quantized tensor failed `ggml_validate_row_data`. */
export function quantOverflowError(p: TensorPlan, row: number): ValidationError {
  const t = ggmlType(p.targetType)!;
  return new ValidationError('QUANT_OVERFLOW', `tensor '${p.name}': quantized row ${row} has a NaN or Inf scale (values too large for ${t.name}); llama.cpp rejects this as "quantized data validation failed"`, { tensor: p.name });
}

/**
 * Copies skip the F32 path, so check their raw bytes here, as llama.cpp's loader does
 * (`check_tensors`): NaN/Inf floats, or NaN/Inf fp16 scales in quantized blocks.
 */
export function checkSourceBytes(p: TensorPlan, raw: Uint8Array, firstElement: number): void {
  const t = ggmlType(p.sourceType)!;
  const block = firstNonFiniteBlock(t, raw);
  if (block < 0) return;
  if (t.quantized) {
    const row = Math.floor(firstElement / p.ne[0]!) + Math.floor(block / (p.ne[0]! / t.blockSize));
    throw new FormatError('NON_FINITE', `tensor '${p.name}' (${t.name}) has a NaN or Inf scale in row ${row}`, { tensor: p.name });
  }
  throw nonFiniteError(p, firstElement + block, floatAt(t.id, raw, block * t.typeSize));
}

/** The F32/F16/BF16 value at byte `off` (NaN for other types), for error messages. */
function floatAt(typeId: number, raw: Uint8Array, off: number): number {
  const half = () => raw[off]! | (raw[off + 1]! << 8);
  if (typeId === GgmlTypeId.F32) return new DataView(raw.buffer, raw.byteOffset + off, 4).getFloat32(0, true);
  if (typeId === GgmlTypeId.F16) return fp16ToFp32(half());
  if (typeId === GgmlTypeId.BF16) return bf16ToFp32(half());
  return NaN;
}
