/**
 * GELU, tanh approximation, as ggml_gelu_f32 computes it in float:
 * 0.5f·x·(1 + tanhf(SQRT_2_OVER_PI·x·(1 + GELU_COEF_A·x·x))). ggml-cpu built with GGML_GELU_FP16
 * (vec.h) looks f32 inputs up in an fp16 table instead; this is the exact f32 form, which is what
 * transformers' gelu_pytorch_tanh computes and what the fixtures' logits are measured against.
 */
const F = Math.fround;
const GELU_COEF_A = F(0.044715);
const SQRT_2_OVER_PI = F(0.79788456080286535587989211986876);

export function gelu(x: number): number {
  const inner = F(F(SQRT_2_OVER_PI * x) * F(1 + F(F(GELU_COEF_A * x) * x)));
  return F(F(F(0.5 * x)) * F(1 + F(Math.tanh(inner))));
}

/** GeGLU, ggml_vec_geglu_f32 (ggml_geglu_split in build_ffn, LLM_FFN_GELU + LLM_FFN_PAR): out[i] = gelu(gate[i]) · up[i]. `out` may alias. */
export function geluMul(gate: Float32Array, up: Float32Array, out: Float32Array, n: number = gate.length): void {
  if (up.length < n || out.length < n || gate.length < n) throw new RangeError(`geluMul: arrays shorter than ${n}`);
  for (let i = 0; i < n; i++) out[i] = gelu(gate[i]!) * up[i]!;
}
