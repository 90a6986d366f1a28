/** Element-wise ops of the decoder graph, in float as ggml-cpu computes them. */
const F = Math.fround;

/** ggml_silu_f32: x / (1 + expf(-x)). */
export function silu(x: number): number {
  return F(x / F(1 + F(Math.exp(-x))));
}

/**
 * SwiGLU, ggml_vec_swiglu_f32 (ggml_swiglu_split in llama-graph's build_ffn, LLM_FFN_SILU +
 * LLM_FFN_PAR): out[i] = silu(gate[i]) · up[i]. `out` may alias `gate` or `up`.
 */
export function siluMul(gate: Float32Array, up: Float32Array, out: Float32Array, n: number = gate.length): void {
  if (up.length < n || out.length < n || gate.length < n) throw new RangeError(`siluMul: arrays shorter than ${n}`);
  for (let i = 0; i < n; i++) out[i] = silu(gate[i]!) * up[i]!;
}

/** ggml_add (residual connections): acc[i] += y[i], rounded to float. */
export function addInPlace(acc: Float32Array, y: Float32Array, n: number = acc.length): void {
  if (y.length < n || acc.length < n) throw new RangeError(`addInPlace: arrays shorter than ${n}`);
  for (let i = 0; i < n; i++) acc[i] = acc[i]! + y[i]!;
}

/** ggml_add with a row broadcast (a bias): x[t·dim + i] += bias[i] for nTokens rows. */
export function addBias(x: Float32Array, nTokens: number, dim: number, bias: Float32Array): void {
  if (x.length < nTokens * dim || bias.length < dim) throw new RangeError(`addBias: arrays shorter than ${nTokens}×${dim}`);
  for (let t = 0; t < nTokens; t++) {
    const o = t * dim;
    for (let i = 0; i < dim; i++) x[o + i] = x[o + i]! + bias[i]!;
  }
}
