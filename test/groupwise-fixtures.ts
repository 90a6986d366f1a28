/** Shared fixtures of the groupwise/AWQ/GPTQ tests (not a test file itself). */

/** Deterministic pseudo-random weights, roughly bell-shaped in [-3*scale, 3*scale] (xorshift32). */
export function randomWeights(n: number, seed: number, scale = 0.05): Float32Array {
  let s = seed >>> 0 || 1;
  const next = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 2 ** 32; };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (next() + next() + next() - 1.5) * 2 * scale;
  return out;
}
