/**
 * The statistics llama-perplexity prints, accumulated position by position as logits are produced
 * (tools/perplexity/perplexity.cpp): `log_softmax` + `process_logits` for perplexity, and the
 * `kl_divergence_result` sums for KL divergence against a reference. The reference's distribution
 * is taken from its logits in memory, not from a uint16-quantized logits file, so the KL is exact.
 * Float arithmetic follows the C++: floats where it uses float, doubles for the sums.
 */
const F = Math.fround;
const expf = (x: number) => F(Math.exp(x));

/** max logit (first index on ties), its index, and Σ expf(l − max) in double. */
function softmaxStats(logits: Float32Array, nVocab: number): { max: number; imax: number; sumExp: number } {
  let max = logits[0]!;
  let imax = 0;
  for (let i = 1; i < nVocab; i++) if (logits[i]! > max) { max = logits[i]!; imax = i; }
  let sumExp = 0;
  for (let i = 0; i < nVocab; i++) sumExp += expf(F(logits[i]! - max));
  return { max, imax, sumExp };
}

export interface PerplexityResult {
  ppl: number;
  /** llama-perplexity's `+/-`: ppl · sqrt(var(nll) / (count − 1)). */
  pplError: number;
  /** Mean negative log-likelihood (ln PPL). */
  meanNll: number;
  scored: number;
}

/** Perplexity (llama-perplexity's `perplexity()`, no logits file). */
export class PerplexityAccumulator {
  private nll = 0;
  private nll2 = 0;
  count = 0;

  /** One scored position: logits predicting `next`. */
  add(logits: Float32Array, nVocab: number, next: number): number {
    const { max, sumExp } = softmaxStats(logits, nVocab);
    const v = -(F(logits[next]! - max) - Math.log(sumExp));
    this.nll += v;
    this.nll2 += v * v;
    this.count++;
    return v;
  }

  result(): PerplexityResult {
    const mean = this.nll / this.count;
    let var2 = this.nll2 / this.count - mean * mean;
    const ppl = Math.exp(mean);
    var2 = var2 > 0 ? Math.sqrt(var2 / (this.count - 1)) : 0;
    return { ppl, pplError: var2 * ppl, meanNll: mean, scored: this.count };
  }
}

export interface KlResult {
  /** Mean PPL(Q) and PPL(base) ± as llama-perplexity's KL mode prints them. */
  ppl: number; pplError: number;
  pplRef: number; pplRefError: number;
  /** Cor(ln PPL(Q), ln PPL(base)). */
  correlation: number;
  lnPplRatio: number; lnPplRatioError: number;
  pplRatio: number; pplRatioError: number;
  pplDiff: number; pplDiffError: number;
  kl: { mean: number; error: number; max: number; p999: number; p99: number; p95: number; p90: number; median: number; p10: number; p5: number; p1: number; p01: number; min: number };
  /** Top-1 agreement ("Same top p"), a fraction. */
  sameTop: number; sameTopError: number;
  /** Δp = p(correct token | model) − p(correct token | ref), fractions. */
  deltaP: { mean: number; error: number; rms: number; rmsError: number; max: number; p99: number; p90: number; median: number; p10: number; p1: number; min: number };
  positions: number;
}

/** KL divergence and the token-probability statistics (`kl_divergence()` and its `log_softmax`). */
export class KlAccumulator {
  private s = { nll: 0, nll2: 0, nllBase: 0, nllBase2: 0, nllNllBase: 0, kld: 0, kld2: 0, pDiff: 0, pDiff2: 0, pDiff4: 0, sameTop: 0 };
  private kldValues: number[] = [];
  private pDiffValues: number[] = [];
  count = 0;

  /** One scored position: the model's and the reference's logits predicting `next`. */
  add(logits: Float32Array, refLogits: Float32Array, nVocab: number, next: number): number {
    const q = softmaxStats(logits, nVocab);
    const b = softmaxStats(refLogits, nVocab);
    const lse = F(Math.log(q.sumExp));
    const lseB = F(Math.log(b.sumExp));
    // Model and reference log-probabilities are rounded the same way (llama.cpp computes the model's
    // as max + lse − logit, a last-bit difference), so identical logits give exactly 0 KL and Δp.
    const logQ = (i: number) => F(F(logits[i]! - q.max) - lse);
    const logBase = (i: number) => F(F(refLogits[i]! - b.max) - lseB);
    const nll = -logQ(next);
    const nllBase = -logBase(next);
    const s = this.s;
    s.nll += nll; s.nll2 += nll * nll;
    s.nllBase += nllBase; s.nllBase2 += nllBase * nllBase;
    s.nllNllBase += nll * nllBase;
    let kl = 0;
    for (let i = 0; i < nVocab; i++) {
      const lb = logBase(i);
      kl += expf(lb) * (lb - logQ(i));
    }
    s.kld += kl; s.kld2 += kl * kl;
    if (q.imax === b.imax) s.sameTop++;
    const pDiff = F(expf(-nll) - expf(-nllBase));
    s.pDiff += pDiff;
    const d2 = pDiff * pDiff;
    s.pDiff2 += d2; s.pDiff4 += d2 * d2;
    this.kldValues.push(F(kl));
    this.pDiffValues.push(pDiff);
    this.count++;
    return kl;
  }

  /** Mean KL so far (cheap, for progress). */
  get meanKl(): number {
    return this.s.kld / this.count;
  }

  result(): KlResult {
    const n = this.count;
    const s = this.s;
    const lp = meanAndUncertainty(s.nll, s.nll2, n);
    const lpBase = meanAndUncertainty(s.nllBase, s.nllBase2, n);
    const cov = covariance(s.nll, s.nllBase, s.nllNllBase, n);
    const ppl = Math.exp(lp.mean);
    const pplRef = Math.exp(lpBase.mean);
    const lnRatio = lp.mean - lpBase.mean;
    const lnRatioErr = Math.sqrt(Math.max(0, lp.err ** 2 + lpBase.err ** 2 - 2 * cov));
    const pplErr = ppl * lp.err;
    const pplRefErr = pplRef * lpBase.err;
    const kl = meanAndUncertainty(s.kld, s.kld2, n);
    const mse = meanAndUncertainty(s.pDiff2, s.pDiff4, n);
    const rms = Math.sqrt(mse.mean);
    const top = s.sameTop / n;
    const pd = meanAndUncertainty(s.pDiff, s.pDiff2, n);
    const kv = Float32Array.from(this.kldValues).sort();
    const pv = Float32Array.from(this.pDiffValues).sort();
    return {
      ppl, pplError: pplErr, pplRef, pplRefError: pplRefErr,
      correlation: lp.err && lpBase.err ? cov / (lp.err * lpBase.err) : 0,
      lnPplRatio: lnRatio, lnPplRatioError: lnRatioErr,
      pplRatio: Math.exp(lnRatio), pplRatioError: Math.exp(lnRatio) * lnRatioErr,
      pplDiff: ppl - pplRef, pplDiffError: Math.sqrt(Math.max(0, pplErr ** 2 + pplRefErr ** 2 - 2 * ppl * pplRef * cov)),
      kl: {
        mean: kl.mean, error: kl.err, max: kv[kv.length - 1]!, p999: percentile(kv, 0.999), p99: percentile(kv, 0.99), p95: percentile(kv, 0.95),
        p90: percentile(kv, 0.9), median: median(kv), p10: percentile(kv, 0.1), p5: percentile(kv, 0.05), p1: percentile(kv, 0.01), p01: percentile(kv, 0.001), min: kv[0]!,
      },
      sameTop: top, sameTopError: n > 1 ? Math.sqrt((top * (1 - top)) / (n - 1)) : 0,
      deltaP: {
        mean: pd.mean, error: pd.err, rms, rmsError: rms > 0 ? (0.5 / rms) * mse.err : 0,
        max: pv[pv.length - 1]!, p99: percentile(pv, 0.99), p90: percentile(pv, 0.9), median: median(pv), p10: percentile(pv, 0.1), p1: percentile(pv, 0.01), min: pv[0]!,
      },
      positions: n,
    };
  }
}

/** perplexity.cpp's mean_and_uncertainty lambda. */
function meanAndUncertainty(sum: number, sum2: number, count: number): { mean: number; err: number } {
  if (count < 1) return { mean: 0, err: 0 };
  const f = sum / count;
  const df = sum2 / count - f * f;
  return { mean: f, err: df > 0 && count > 10 ? Math.sqrt(df / (count - 1)) : 0 };
}

/** perplexity.cpp's covariance lambda. */
function covariance(a: number, b: number, ab: number, count: number): number {
  if (count < 10) return 0;
  return (ab / count - (a / count) * (b / count)) / (count - 1);
}

/** perplexity.cpp's percentile lambda (linear interpolation in float) over sorted values. */
function percentile(sorted: Float32Array, fraction: number): number {
  if (sorted.length === 0) return NaN;
  if (fraction <= 0) return sorted[0]!;
  if (fraction >= 1) return sorted[sorted.length - 1]!;
  let p = F(F(fraction) * (sorted.length - 1));
  const ip = Math.floor(p);
  p = F(p - ip);
  return F(F((1 - p) * sorted[ip]!) + F(p * sorted[Math.min(ip + 1, sorted.length - 1)]!));
}

function median(sorted: Float32Array): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  return n % 2 === 0 ? F(0.5 * (sorted[n / 2]! + sorted[n / 2 - 1]!)) : sorted[(n - 1) / 2]!;
}
