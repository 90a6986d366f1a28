/**
 * A weight matrix as ggml stores it: `rows` output features (ggml ne1), each a row of `cols` input
 * features (ne0) encoded in the ggml type `type` (an id of kernels/ggml-types.ts), rows back to back.
 * Matmul kernels read it row panel by row panel, dequantizing only the panel they work on.
 */
import { ggmlType, rowSize } from '../ggml-types.ts';
import { quantKernel } from '../quant-table.ts';

export interface WeightMatrix {
  /** ggml type id (GgmlTypeId in kernels/ggml-types.ts). */
  type: number;
  /** Output features (ggml ne1). */
  rows: number;
  /** Input features (ggml ne0); a multiple of the type's block size. */
  cols: number;
  /** ggml bytes, row-major: rows × rowBytes(w). */
  data: Uint8Array;
}

/** Bytes of one row of `w`. */
export function weightRowBytes(w: WeightMatrix): number {
  const t = ggmlType(w.type);
  if (!t) throw new RangeError(`unknown ggml type ${w.type}`);
  return rowSize(t, w.cols);
}

/** Checks the geometry of `w` once per call (not per panel); throws with the type's name. */
export function checkWeight(w: WeightMatrix): number {
  const t = ggmlType(w.type);
  if (!t) throw new RangeError(`unknown ggml type ${w.type}`);
  const rb = rowSize(t, w.cols);
  if (w.data.length < rb * w.rows) throw new RangeError(`${t.name} weight ${w.rows}×${w.cols}: has ${w.data.length} bytes, needs ${rb * w.rows}`);
  if (!quantKernel(w.type)?.dequantize) throw new RangeError(`no dequantizer for ggml type ${t.name}`);
  return rb;
}

/**
 * Dequantizes rows [firstRow, firstRow + nRows) of `w` into `out` (nRows × cols floats), with the
 * reference dequantizers (`dequantize_row_*`, `ggml_fp16_to_fp32_row`, `ggml_bf16_to_fp32_row`).
 */
export function dequantizeRows(w: WeightMatrix, firstRow: number, nRows: number, out: Float32Array): void {
  const rb = weightRowBytes(w);
  const k = quantKernel(w.type);
  if (!k?.dequantize) throw new RangeError(`no dequantizer for ggml type ${ggmlType(w.type)?.name ?? w.type}`);
  const start = w.data.byteOffset + firstRow * rb;
  const src = new Uint8Array(w.data.buffer, start, nRows * rb);
  k.dequantize(src, out, nRows * w.cols);
}
