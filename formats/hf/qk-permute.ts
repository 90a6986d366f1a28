/**
 * Llama's q/k row permutation (convert_hf_to_gguf.py `LlamaModel.permute`). HF checkpoints keep
 * each head's rotary dimensions in rotate-half order (first half, second half); ggml's RoPE pairs
 * adjacent rows, so within each head of hd rows: out[h*hd + 2b + a] = in[h*hd + a*hd/2 + b].
 * Columns are untouched; a bias is the rowLen = 1 case. Rows are permuted whole, so quantizing
 * before or after gives the same bytes.
 */
export function permuteRowsQK(rows: Float32Array, nRows: number, rowLen: number, heads: number): Float32Array {
  if (rows.length !== nRows * rowLen) throw new RangeError(`permuteRowsQK: ${rows.length} values is not ${nRows} x ${rowLen}`);
  const hd = nRows / heads;
  if (!Number.isInteger(hd) || hd % 2 !== 0) throw new RangeError(`permuteRowsQK: ${nRows} rows do not split into ${heads} heads of even size`);
  const half = hd / 2;
  const out = new Float32Array(rows.length);
  for (let h = 0; h < heads; h++) {
    for (let a = 0; a < 2; a++) {
      for (let b = 0; b < half; b++) {
        const src = (h * hd + a * half + b) * rowLen;
        const dst = (h * hd + 2 * b + a) * rowLen;
        out.set(rows.subarray(src, src + rowLen), dst);
      }
    }
  }
  return out;
}

/** Where output row `r` comes from (for callers that permute rows of quantized or raw bytes). */
export function permutedSourceRow(r: number, nRows: number, heads: number): number {
  const hd = nRows / heads;
  const h = Math.floor(r / hd);
  const i = r - h * hd;
  return h * hd + (i % 2) * (hd / 2) + (i >> 1);
}
