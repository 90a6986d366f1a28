/**
 * Rotary position embedding in place, as ggml_compute_forward_rope_flt does it on the ext_factor = 0
 * path (llama.cpp's default for non-YaRN models): ggml_rope_cache_init builds cos/sin per position
 * (theta = p, then theta *= theta_scale = powf(base, -2.0f/n_dims) per pair; each pair's angle is
 * theta/freq_factors[i0/2] scaled by freq_scale in rope_yarn), and rotate_pairs rotates pairs
 * (i0, i0+1) in NORMAL mode or (i, i + n_dims/2) in NEOX mode. Channels past n_dims are untouched.
 * All in float, as ggml computes it.
 */
const F = Math.fround;

export interface RopeOptions {
  mode: 'normal' | 'neox';
  /** rope.freq_base. */
  base: number;
  /** Rotated channels per head (rope.dimension_count); default headDim. Even. */
  nRot?: number;
  /** llama3-style per-pair divisors (the `rope_freqs` tensor, nRot/2 floats). */
  freqFactors?: Float32Array;
  /** 1 / linear scaling factor; default 1. */
  freqScale?: number;
  /** attn_factor (mscale on cos and sin); default 1. */
  attnFactor?: number;
}

/**
 * `x`: nTokens × nHeads × headDim floats, rotated in place; `positions[t]` is token t's position.
 */
export function rope(x: Float32Array, nTokens: number, nHeads: number, headDim: number, positions: Int32Array, opts: RopeOptions): void {
  const nDims = opts.nRot ?? headDim;
  if (nDims % 2 !== 0 || nDims > headDim || nDims <= 0) throw new RangeError(`rope: nRot ${nDims} must be even and in 1..${headDim}`);
  if (x.length < nTokens * nHeads * headDim) throw new RangeError(`rope: x shorter than ${nTokens}×${nHeads}×${headDim}`);
  if (positions.length < nTokens) throw new RangeError(`rope: ${positions.length} positions for ${nTokens} tokens`);
  const ff = opts.freqFactors;
  if (ff && ff.length < nDims / 2) throw new RangeError(`rope: freqFactors has ${ff.length} floats, needs ${nDims / 2}`);
  const freqScale = F(opts.freqScale ?? 1);
  const mscale = F(opts.attnFactor ?? 1);
  const thetaScale = F(Math.pow(F(opts.base), F(-2 / nDims)));
  const neox = opts.mode === 'neox';
  const cache = new Float32Array(nDims);
  for (let t = 0; t < nTokens; t++) {
    // ggml_rope_cache_init(p, ...) with ext_factor = 0: rope_yarn reduces to freq_scale·theta.
    let theta = F(positions[t]!);
    for (let i0 = 0; i0 < nDims; i0 += 2) {
      const arg = ff ? F(theta / ff[i0 / 2]!) : theta;
      const th = F(freqScale * arg);
      cache[i0] = F(Math.cos(th)) * mscale;
      cache[i0 + 1] = F(Math.sin(th)) * mscale;
      theta = F(theta * thetaScale);
    }
    for (let h = 0; h < nHeads; h++) {
      const base = (t * nHeads + h) * headDim;
      // rotate_pairs: NORMAL pairs (i0, i0+1); NEOX pairs (i0/2, i0/2 + n_dims/2).
      const offset = neox ? nDims / 2 : 1;
      for (let i0 = 0; i0 < nDims; i0 += 2) {
        const ic = base + (neox ? i0 / 2 : i0);
        const c = cache[i0]!, s = cache[i0 + 1]!;
        const x0 = x[ic]!, x1 = x[ic + offset]!;
        x[ic] = F(x0 * c) - F(x1 * s);
        x[ic + offset] = F(x0 * s) + F(x1 * c);
      }
    }
  }
}
