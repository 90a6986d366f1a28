import type { HfConfig } from './config.ts';

const f = Math.fround;

/**
 * Llama 3 rope scaling factors, the `rope_freqs.weight` tensor (`LlamaModel.generate_extra_tensors`).
 * torch does every step in float32 (a Python float combined with a float32 tensor is cast to
 * float32, and `x / tensor` is `tensor.reciprocal() * x`); we replay that with Math.fround.
 * Caveat: torch's vectorised float32 pow may differ from the correctly rounded value by one ulp.
 */
export function llama3RopeFreqs(config: HfConfig, rope: Record<string, unknown>): Float32Array {
  const base = f(numberOr(rope.rope_theta, config.ropeTheta ?? 10000));
  const dim = config.headDim;
  const factor = numberOr(rope.factor, 8);
  const lowFreqFactor = numberOr(rope.low_freq_factor, 1);
  const highFreqFactor = numberOr(rope.high_freq_factor, 4);
  // convert reads this from the top level of config.json only (Llama 3.1 keeps it in rope_scaling, same 8192).
  const oldContextLen = numberOr(config.raw.original_max_position_embeddings, 8192);
  const lowFreqWavelen = f(oldContextLen / lowFreqFactor);
  const highFreqWavelen = f(oldContextLen / highFreqFactor);
  const twoPi = f(2 * Math.PI);

  const out = new Float32Array(dim / 2);
  for (let i = 0; i < dim / 2; i++) {
    const exponent = f(f(2 * i) / f(dim));
    const freq = f(1 / f(Math.pow(base, exponent)));
    const wavelen = f(f(1 / freq) * twoPi);
    if (wavelen < highFreqWavelen) out[i] = 1;
    else if (wavelen > lowFreqWavelen) out[i] = factor;
    else {
      const ratio = f(f(1 / wavelen) * f(oldContextLen));
      const smooth = f(f(ratio - f(lowFreqFactor)) / f(highFreqFactor - lowFreqFactor));
      const denom = f(f(f(1 - smooth) / f(factor)) + smooth);
      out[i] = f(1 / denom);
    }
  }
  return out;
}

function numberOr(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}
