/**
 * Causal self-attention with grouped-query heads, as llama-graph's build_attn_mha computes it
 * without flash attention: kq = ggml_mul_mat(k, q); optional soft-capping
 * (kq = softcap · tanh(kq · (1/softcap))); kq = ggml_soft_max_ext(kq, mask, scale) (the mask is 0 or
 * −inf: causal, plus llama_hparams::is_masked_swa STANDARD when `window` is set: key p0 is masked
 * for query p1 when p1 − p0 ≥ window); out = ggml_mul_mat(v, kq). Query head h reads key/value
 * head ⌊h / (nHead/nHeadKv)⌋, as ggml_mul_mat broadcasts.
 *
 * Layouts: q, out are nTokens × nHead × headDim; k, v are nTokens × nHeadKv × headDim. Token t sits
 * at position t of one sequence. Dot products accumulate in float64 and round once.
 */
const F = Math.fround;

export interface AttentionOptions {
  /** attn_logit_softcapping (gemma2); 0 or undefined for none. */
  softcap?: number;
  /** Sliding window size (n_swa); undefined for full causal attention. */
  window?: number;
}

export function checkAttentionArgs(q: Float32Array, k: Float32Array, v: Float32Array, nTokens: number, nHead: number, nHeadKv: number, headDim: number, out: Float32Array): void {
  if (nHeadKv <= 0 || nHead % nHeadKv !== 0) throw new RangeError(`attention: ${nHead} heads is not a multiple of ${nHeadKv} kv heads`);
  if (q.length < nTokens * nHead * headDim || out.length < nTokens * nHead * headDim) throw new RangeError(`attention: q/out shorter than ${nTokens}×${nHead}×${headDim}`);
  if (k.length < nTokens * nHeadKv * headDim || v.length < nTokens * nHeadKv * headDim) throw new RangeError(`attention: k/v shorter than ${nTokens}×${nHeadKv}×${headDim}`);
}

/** Heads [h0, h1) of the attention (the unit the fast path splits across workers). */
export function attentionHeads(q: Float32Array, k: Float32Array, v: Float32Array, nTokens: number, nHead: number, nHeadKv: number, headDim: number, scale: number, out: Float32Array, opts: AttentionOptions, h0: number, h1: number): void {
  const group = nHead / nHeadKv;
  const qStride = nHead * headDim, kvStride = nHeadKv * headDim;
  const scaleF = F(scale);
  const cap = opts.softcap ? F(opts.softcap) : 0;
  const invCap = cap ? F(1 / cap) : 0;
  const win = opts.window;
  const p = new Float32Array(nTokens);
  const acc = new Float64Array(headDim);
  for (let h = h0; h < h1; h++) {
    const kvh = Math.floor(h / group);
    for (let t = 0; t < nTokens; t++) {
      const qo = t * qStride + h * headDim;
      const lo = win !== undefined ? Math.max(0, t - win + 1) : 0;
      // kq row for query t over keys lo..t; keys outside are −inf in the mask and become exactly 0.
      let max = -Infinity;
      for (let j = lo; j <= t; j++) {
        const ko = j * kvStride + kvh * headDim;
        let s = 0;
        for (let d = 0; d < headDim; d++) s += q[qo + d]! * k[ko + d]!;
        let kq = F(s);
        if (cap) kq = F(cap * F(Math.tanh(F(kq * invCap))));
        const w = F(kq * scaleF); // ggml_vec_scale_f32, then + mask (0)
        p[j] = w;
        if (w > max) max = w;
      }
      let sum = 0;
      for (let j = lo; j <= t; j++) {
        const e = F(Math.exp(F(p[j]! - max)));
        p[j] = e;
        sum += e;
      }
      const inv = F(1 / sum);
      acc.fill(0);
      for (let j = lo; j <= t; j++) {
        const pj = F(p[j]! * inv);
        const vo = j * kvStride + kvh * headDim;
        for (let d = 0; d < headDim; d++) acc[d] += pj * v[vo + d]!;
      }
      for (let d = 0; d < headDim; d++) out[qo + d] = acc[d]!;
    }
  }
}

export function attention(q: Float32Array, k: Float32Array, v: Float32Array, nTokens: number, nHead: number, nHeadKv: number, headDim: number, scale: number, out: Float32Array, opts: AttentionOptions = {}): void {
  checkAttentionArgs(q, k, v, nTokens, nHead, nHeadKv, headDim, out);
  attentionHeads(q, k, v, nTokens, nHead, nHeadKv, headDim, scale, out, opts, 0, nHead);
}
