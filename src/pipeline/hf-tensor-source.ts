/**
 * Reads one HF tensor as float32 rows for the write stage: applying llama's q/k row permutation
 * and (with `--via f16`) rounding through fp16 the way a llama.cpp pipeline that converts to F16
 * first would see the values.
 *
 * HF weights are `[out, in]` row-major, which is GGUF `ne = [in, out]` with identical bytes, so a
 * GGUF row is an HF row and no transpose is ever needed.
 */
import { fp16ToFp32, fp32ToFp16 } from '../../kernels/fp16.ts';

/**
 * Rows [rowStart, rowStart + rowCount) of an HF tensor, widened exactly to float32; into `into`
 * (a view of it is returned) when given and big enough, so the write stage's buffers are reused.
 */
export type ReadRowsF32 = (hfName: string, rowStart: number, rowCount: number, into?: Float32Array) => Promise<Float32Array>;

export interface HfRowReaderSpec {
  hfName: string;
  /** Row length (GGUF ne[0]) and row count (product of the other dims). */
  rowLen: number;
  nRows: number;
  /** Heads for llama's q/k permutation; rows are permuted within each head of nRows/heads rows. */
  permuteHeads?: number;
  /** Round every value through fp16 (`--via f16`). */
  viaF16?: boolean;
  /** HF tensors stacked along the outermost dim (Mixtral experts): nRows / stack.length rows each, in order. */
  stack?: string[];
  /** Store w + 1 in float32 (Gemma's norms, `data_torch + 1` after the cast to float32). */
  addOne?: boolean;
}

export function hfRowReader(read: ReadRowsF32, spec: HfRowReaderSpec): (rowStart: number, rowCount: number, into?: Float32Array) => Promise<Float32Array> {
  const { hfName, rowLen, nRows, permuteHeads, viaF16, addOne } = spec;
  if (spec.stack) return stackedRowReader(read, spec);
  const headRows = permuteHeads ? nRows / permuteHeads : 1;
  return async (rowStart, rowCount, into) => {
    if (permuteHeads && (!Number.isInteger(headRows) || headRows % 2 !== 0)) {
      throw new RangeError(`${hfName}: ${nRows} rows do not split into ${permuteHeads} heads of even size`);
    }
    // The permutation mixes rows within a head, so read whole heads and cut the window out.
    const lo = permuteHeads ? Math.floor(rowStart / headRows) * headRows : rowStart;
    const hi = permuteHeads ? Math.ceil((rowStart + rowCount) / headRows) * headRows : rowStart + rowCount;
    const fits = into && into.length >= (hi - lo) * rowLen;
    const rows = await read(hfName, lo, hi - lo, fits ? into : undefined);
    if (rows.length !== (hi - lo) * rowLen) throw new RangeError(`${hfName}: read ${rows.length} values for ${hi - lo} rows of ${rowLen}`);
    if (permuteHeads) permuteHeadsInPlace(rows, rowLen, headRows);
    if (addOne) for (let i = 0; i < rows.length; i++) rows[i] = Math.fround(rows[i]! + 1);
    if (viaF16) roundThroughF16(rows);
    return lo === rowStart && hi === rowStart + rowCount ? rows : rows.subarray((rowStart - lo) * rowLen, (rowStart - lo + rowCount) * rowLen);
  };
}

/** Rows of `torch.stack(parts, dim=0)`: GGUF row r is row r mod n of part floor(r / n). */
function stackedRowReader(read: ReadRowsF32, spec: HfRowReaderSpec): (rowStart: number, rowCount: number, into?: Float32Array) => Promise<Float32Array> {
  const parts = spec.stack!;
  const per = spec.nRows / parts.length;
  return async (rowStart, rowCount, into) => {
    const out = into && into.length >= rowCount * spec.rowLen ? into.subarray(0, rowCount * spec.rowLen) : new Float32Array(rowCount * spec.rowLen);
    for (let r = rowStart; r < rowStart + rowCount;) {
      const part = Math.floor(r / per);
      const n = Math.min(rowStart + rowCount, (part + 1) * per) - r;
      const rows = await read(parts[part]!, r - part * per, n);
      out.set(rows, (r - rowStart) * spec.rowLen);
      r += n;
    }
    if (spec.viaF16) roundThroughF16(out);
    return out;
  };
}

/**
 * Llama's q/k row permutation (formats/hf/qk-permute.ts, convert_hf_to_gguf's `permute`) done in
 * place, one head at a time through a small reused copy of the head, so no chunk-sized array is
 * allocated: within each head of hd rows, out[2b + a] = in[a·hd/2 + b].
 */
function permuteHeadsInPlace(rows: Float32Array, rowLen: number, hd: number): void {
  const headLen = hd * rowLen;
  if (headCopy.length < headLen) headCopy = new Float32Array(headLen);
  const half = hd / 2;
  for (let h = 0; h < rows.length; h += headLen) {
    headCopy.set(rows.subarray(h, h + headLen));
    for (let a = 0; a < 2; a++) {
      for (let b = 0; b < half; b++) {
        const src = (a * half + b) * rowLen;
        rows.set(headCopy.subarray(src, src + rowLen), h + (2 * b + a) * rowLen);
      }
    }
  }
}
let headCopy = new Float32Array(0);

function roundThroughF16(x: Float32Array): void {
  for (let i = 0; i < x.length; i++) x[i] = fp16ToFp32(fp32ToFp16(x[i]!));
}
