/**
 * Reads one HF tensor as float32 rows for the write stage: applying llama's q/k row permutation
 * and (with `--via f16`) rounding through fp16 the way a llama.cpp pipeline that converts to F16
 * first would see the values.
 *
 * HF weights are `[out, in]` row-major, which is GGUF `ne = [in, out]` with identical bytes, so a
 * GGUF row is an HF row and no transpose is ever needed.
 */
import { permuteRowsQK } from '../../formats/hf/tensor-map.ts';
import { fp16ToFp32, fp32ToFp16 } from '../../kernels/fp16.ts';

/** Rows [rowStart, rowStart + rowCount) of an HF tensor, widened exactly to float32. */
export type ReadRowsF32 = (hfName: string, rowStart: number, rowCount: number) => Promise<Float32Array>;

export interface HfRowReaderSpec {
  hfName: string;
  /** Row length (GGUF ne[0]) and row count (product of the other dims). */
  rowLen: number;
  nRows: number;
  /** Heads for llama's q/k permutation; rows are permuted within each head of nRows/heads rows. */
  permuteHeads?: number;
  /** Round every value through fp16 (`--via f16`). */
  viaF16?: boolean;
}

export function hfRowReader(read: ReadRowsF32, spec: HfRowReaderSpec): (rowStart: number, rowCount: number) => Promise<Float32Array> {
  const { hfName, rowLen, nRows, permuteHeads, viaF16 } = spec;
  const headRows = permuteHeads ? nRows / permuteHeads : 1;
  return async (rowStart, rowCount) => {
    // The permutation mixes rows within a head, so read whole heads and cut the window out.
    const lo = permuteHeads ? Math.floor(rowStart / headRows) * headRows : rowStart;
    const hi = permuteHeads ? Math.ceil((rowStart + rowCount) / headRows) * headRows : rowStart + rowCount;
    let rows = await read(hfName, lo, hi - lo);
    if (permuteHeads) rows = permuteRowsQK(rows, hi - lo, rowLen, (hi - lo) / headRows);
    if (viaF16) roundThroughF16(rows);
    return lo === rowStart && hi === rowStart + rowCount ? rows : rows.subarray((rowStart - lo) * rowLen, (rowStart - lo + rowCount) * rowLen);
  };
}

function roundThroughF16(x: Float32Array): void {
  for (let i = 0; i < x.length; i++) x[i] = fp16ToFp32(fp32ToFp16(x[i]!));
}
