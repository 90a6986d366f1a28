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

/** Phi-3's original context: top-level `original_max_position_embeddings`, else rope_scaling's. */
function phi3Contexts(config: HfConfig, rope: Record<string, unknown>): { max: number; orig: number } {
  const orig = numberOr(config.raw.original_max_position_embeddings, numberOr(rope.original_max_position_embeddings, NaN));
  return { max: config.contextLength ?? NaN, orig };
}

/** Phi3MiniModel's rope dims: int(partial_rotary_factor × hidden) // heads. */
function phi3RopeDims(config: HfConfig): number {
  return Math.floor(Math.floor(numberOr(config.raw.partial_rotary_factor, 1) * config.hiddenSize) / config.numHeads);
}

/**
 * Phi-3 long-context rope (`Phi3MiniModel.generate_extra_tensors`): `rope_scaling.long_factor` and
 * `short_factor` as the rope_factors_long/short tensors (float32, rope_dims / 2 each).
 */
export function longRopeFactors(config: HfConfig, rope: Record<string, unknown>): { ggufName: string; ne: number[]; data: Float32Array }[] {
  const long = rope.long_factor as unknown[];
  const short = rope.short_factor as unknown[] | undefined;
  const half = phi3RopeDims(config) / 2;
  if (!Array.isArray(short) || long.length !== short.length || long.length !== half) {
    throw new RangeError(`${config.file}: rope_scaling long_factor and short_factor must both have ${half} values (got ${long.length} and ${Array.isArray(short) ? short.length : 'none'})`);
  }
  const f32s = (a: unknown[]) => Float32Array.from(a.map(Number));
  return [
    { ggufName: 'rope_factors_long.weight', ne: [half], data: f32s(long) },
    { ggufName: 'rope_factors_short.weight', ne: [half], data: f32s(short) },
  ];
}

/** The `rope.scaling.attn_factor` Phi-3 long-rope writes (before any other metadata but the arch). */
export function longRopeAttnFactor(config: HfConfig, rope: Record<string, unknown>): number {
  const { max, orig } = phi3Contexts(config, rope);
  const scale = max / orig;
  const type = String(rope.rope_type ?? rope.type ?? '').toLowerCase();
  if (type === 'su' || type === 'longrope') return scale > 1 ? Math.sqrt(1 + Math.log(scale) / Math.log(orig)) : 1;
  if (type === 'yarn') return scale > 1 ? 0.1 * Math.log(scale) + 1 : 1;
  throw new RangeError(`${config.file}: rope scaling type '${type}' is not supported with long_factor`);
}
