/**
 * The GPTQ Hessian of one linear module, accumulated as AutoGPTQ `GPTQ.add_batch` does
 * (reference §3.1): for an input `inp` of shape `[batch, seq, in]`,
 *   H *= n / (n + batch);  n += batch;  X = sqrt(2/n) * inp.reshape(-1, in)
 *   H += Xᵀ X
 * so H = 2/N_seq · Σ_tokens x xᵀ, with `n` counting sequences (not tokens).
 *
 * Precision: H is stored in float32 (`in²` values, as upstream's `torch.float32` H; this is the
 * memory bound issue 12 states). The running-average factor, sqrt(2/n) and the scaled inputs are
 * rounded to float32 like torch's float32 tensors. Each new entry Σ_t x_ti x_tj is summed in
 * float64 and rounded once to float32: torch's float32 matmul accumulates in an order we cannot
 * reproduce (BLAS blocking / cuBLAS), so the single rounding of the exact sum is the closest
 * deterministic stand-in (it differs from any fp32 summation by a few ulps at most).
 */

export interface GptqHessian {
  readonly cols: number;
  /** `[cols, cols]` row-major, symmetric. */
  readonly H: Float32Array;
  /** Sequences seen so far (AutoGPTQ `nsamples`), the divisor of the logged "avg loss". */
  nsamples: number;
}

export function createHessian(cols: number): GptqHessian {
  if (!(Number.isInteger(cols) && cols > 0)) throw new RangeError(`in_features must be positive, got ${cols}`);
  return { cols, H: new Float32Array(cols * cols), nsamples: 0 };
}

/**
 * AutoGPTQ `add_batch`: `input` holds `batch` sequences of `input.length / (batch * cols)`
 * tokens each, token-major (`[batch, seq, in]` flattened). A 2-D input (`[tokens, in]`) is
 * passed with batch = 1, as upstream unsqueezes it.
 */
export function addBatch(h: GptqHessian, input: Float32Array, batch = 1): void {
  const { cols, H } = h;
  if (!(Number.isInteger(batch) && batch > 0)) throw new RangeError(`batch must be a positive integer, got ${batch}`);
  if (input.length % cols !== 0) throw new RangeError(`input has ${input.length} values, not a multiple of in=${cols}`);
  const tokens = input.length / cols;
  const keep = Math.fround(h.nsamples / (h.nsamples + batch));
  for (let i = 0; i < H.length; i++) H[i] = Math.fround(H[i]! * keep);
  h.nsamples += batch;
  const scale = Math.fround(Math.sqrt(2 / h.nsamples));
  const x = new Float32Array(input.length);
  for (let i = 0; i < input.length; i++) x[i] = input[i]! * scale; // Float32Array store rounds like torch
  // upper triangle of XᵀX in float64, then mirrored: H stays exactly symmetric as upstream's is
  const acc = new Float64Array(cols * cols);
  for (let t = 0; t < tokens; t++) {
    const o = t * cols;
    for (let i = 0; i < cols; i++) {
      const xi = x[o + i]!;
      if (xi === 0) continue;
      const row = i * cols;
      for (let j = i; j < cols; j++) acc[row + j] += xi * x[o + j]!;
    }
  }
  for (let i = 0; i < cols; i++) {
    for (let j = i; j < cols; j++) {
      const v = Math.fround(H[i * cols + j]! + Math.fround(acc[i * cols + j]!));
      H[i * cols + j] = v;
      H[j * cols + i] = v;
    }
  }
}

/**
 * `add_batch` split around its matrix product, for callers that compute XᵀX on a faster kernel
 * (the forward's matmul engine, float32 accumulation like torch's `inp.matmul(inp.t())`):
 * `beginBatch` applies the running average and returns the input scale sqrt(2/n) (float32);
 * the caller forms Xs = scale · x and adds `XsᵀXs` with `addProduct` (symmetrised, float32).
 */
export function beginBatch(h: GptqHessian, batch: number): number {
  if (!(Number.isInteger(batch) && batch > 0)) throw new RangeError(`batch must be a positive integer, got ${batch}`);
  const keep = Math.fround(h.nsamples / (h.nsamples + batch));
  const H = h.H;
  for (let i = 0; i < H.length; i++) H[i] = Math.fround(H[i]! * keep);
  h.nsamples += batch;
  return Math.fround(Math.sqrt(2 / h.nsamples));
}

export function addProduct(h: GptqHessian, xtx: Float32Array): void {
  const { cols, H } = h;
  if (xtx.length !== cols * cols) throw new RangeError(`product has ${xtx.length} values, expected ${cols}x${cols}`);
  for (let i = 0; i < cols; i++) {
    for (let j = i; j < cols; j++) {
      const v = Math.fround(H[i * cols + j]! + Math.fround((xtx[i * cols + j]! + xtx[j * cols + i]!) / 2));
      H[i * cols + j] = v;
      H[j * cols + i] = v;
    }
  }
}
