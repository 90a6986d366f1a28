/**
 * RMSNorm then the weight, as llama.cpp's graph does it: ggml_compute_forward_rms_norm_f32 (the sum
 * of squares in ggml_float = double, `mean = sum/ne00` and `scale = 1.0f/sqrtf(mean + eps)` in
 * float, y = x·scale) followed by ggml_mul with the norm weight (fused or not, the same floats).
 */
const F = Math.fround;

/**
 * `x` and `out`: nTokens rows of `dim` floats (may be the same array). `weight`: dim floats, or
 * null for a bare ggml_rms_norm.
 */
export function rmsNorm(x: Float32Array, nTokens: number, dim: number, weight: Float32Array | null, eps: number, out: Float32Array): void {
  if (x.length < nTokens * dim || out.length < nTokens * dim) throw new RangeError(`rmsNorm: arrays shorter than ${nTokens}×${dim}`);
  if (weight && weight.length < dim) throw new RangeError(`rmsNorm: weight has ${weight.length} floats, needs ${dim}`);
  const epsF = F(eps);
  for (let t = 0; t < nTokens; t++) {
    const o = t * dim;
    let sum = 0;
    for (let i = 0; i < dim; i++) {
      const v = x[o + i]!;
      sum += F(v * v);
    }
    const mean = F(sum / dim);
    const scale = F(1 / F(Math.sqrt(F(mean + epsF))));
    if (weight) for (let i = 0; i < dim; i++) out[o + i] = F(x[o + i]! * scale) * weight[i]!;
    else for (let i = 0; i < dim; i++) out[o + i] = x[o + i]! * scale;
  }
}
