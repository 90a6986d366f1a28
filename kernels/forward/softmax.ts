/** Softmax over one row, as ggml and llama-perplexity compute it. */
const F = Math.fround;

/**
 * ggml_compute_forward_soft_max_f32 without mask: w = x·scale (float), m = max w,
 * e = expf(w − m) summed in ggml_float (ggml_vec_soft_max_f32), then e · (float)(1.0/sum).
 * Entries of -Infinity (masked) come out 0. `out` may alias `x`.
 */
export function softmax(x: Float32Array, out: Float32Array, n: number = x.length, scale = 1): void {
  if (out.length < n || x.length < n) throw new RangeError(`softmax: arrays shorter than ${n}`);
  const s = F(scale);
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const w = F(x[i]! * s);
    out[i] = w;
    if (w > max) max = w;
  }
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = F(Math.exp(F(out[i]! - max)));
    out[i] = e;
    sum += e;
  }
  const inv = F(1 / sum);
  for (let i = 0; i < n; i++) out[i] = out[i]! * inv;
}

/**
 * Log-probabilities of one row of logits, as llama-perplexity's log_softmax does it: max, then
 * Σ expf(logit − max) in double, and (float)(logit − max) − log(sum) in double. `out` receives n values.
 */
export function logSoftmax(logits: Float32Array, out: Float64Array | Float32Array, n: number = logits.length): void {
  if (out.length < n || logits.length < n) throw new RangeError(`logSoftmax: arrays shorter than ${n}`);
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (logits[i]! > max) max = logits[i]!;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += F(Math.exp(F(logits[i]! - max)));
  const logSum = Math.log(sum);
  for (let i = 0; i < n; i++) out[i] = F(logits[i]! - max) - logSum;
}
