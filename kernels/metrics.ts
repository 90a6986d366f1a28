/**
 * Round-trip error metrics between original weights W and their dequantized approximation Ŵ,
 * accumulated chunk by chunk (any row range, any order) and mergeable across workers.
 *
 * Accuracy: every chunk is summed in float64 in blocks of 256 (short runs, so little error), and
 * the block sums are added to the totals with Neumaier-compensated summation. Error therefore
 * stays near one ulp of the total even over 1e9-element tensors, where a plain running sum drifts
 * to ~1e-8 relative error (7.6e-9 measured on test/kernels-metrics.test.ts's 1e9 values).
 *
 * Pairs where W or Ŵ is NaN or ±Inf are not summed; they are counted in `nonFinite` instead, so
 * one bad value does not turn every metric into NaN.
 */
export interface ErrorMetrics {
  /** Finite pairs compared. */
  count: number;
  /** sqrt(Σ(Ŵ−W)² / count). */
  rmse: number;
  /** max |Ŵ−W|. */
  maxAbs: number;
  /** Σ|Ŵ−W| / count. */
  meanAbs: number;
  /** ‖Ŵ−W‖ / ‖W‖ (Frobenius norms); 0 when both are 0, Infinity when only ‖W‖ is. */
  relFrobenius: number;
  /** 10·log10(ΣW² / Σ(Ŵ−W)²); Infinity for an exact round trip. */
  snrDb: number;
  /** ΣWŴ / (‖W‖·‖Ŵ‖); 1 when both are all zero, 0 when only one is. */
  cosine: number;
  /** Pairs skipped because W or Ŵ was NaN or ±Inf. */
  nonFinite: number;
  /** llama.cpp's test metric (tests/test-quantize-fns.cpp `array_rmse`): sqrt(Σd²) / count. */
  ggml_rmse: number;
}

/** A float64 sum with Neumaier compensation. */
class CompensatedSum {
  sum = 0;
  comp = 0;
  add(v: number): void {
    const t = this.sum + v;
    if (Math.abs(this.sum) >= Math.abs(v)) this.comp += this.sum - t + v;
    else this.comp += v - t + this.sum;
    this.sum = t;
  }
  merge(o: CompensatedSum): void {
    this.add(o.sum);
    this.add(o.comp);
  }
  get value(): number {
    return this.sum + this.comp;
  }
}

const BLOCK = 256;

export class RoundTripMetrics {
  private count = 0;
  private nonFinite = 0;
  private maxAbs = 0;
  private readonly sqErr = new CompensatedSum();
  private readonly absErr = new CompensatedSum();
  private readonly sqOrig = new CompensatedSum();
  private readonly sqApprox = new CompensatedSum();
  private readonly dot = new CompensatedSum();

  /** Adds the pairs orig[i], approx[i] for i in [start, end) (default: the whole arrays). */
  add(orig: Float32Array, approx: Float32Array, start = 0, end = orig.length): void {
    if (approx.length < end || orig.length < end || start < 0 || start > end) {
      throw new RangeError(`metrics: range [${start}, ${end}) outside arrays of ${orig.length} and ${approx.length}`);
    }
    let maxAbs = this.maxAbs, count = 0, nonFinite = 0;
    for (let b = start; b < end; b += BLOCK) {
      const e = Math.min(end, b + BLOCK);
      let se = 0, ae = 0, so = 0, sa = 0, sd = 0;
      for (let i = b; i < e; i++) {
        const w = orig[i]!, q = approx[i]!;
        const d = q - w;
        if (d - d !== 0) { // NaN or ±Inf in W or Ŵ (or their difference overflowed, which f32 inputs cannot)
          nonFinite++;
          continue;
        }
        const ad = Math.abs(d);
        if (ad > maxAbs) maxAbs = ad;
        se += d * d; ae += ad; so += w * w; sa += q * q; sd += w * q;
        count++;
      }
      this.sqErr.add(se); this.absErr.add(ae); this.sqOrig.add(so); this.sqApprox.add(sa); this.dot.add(sd);
    }
    this.maxAbs = maxAbs;
    this.count += count;
    this.nonFinite += nonFinite;
  }

  /** Folds another accumulator (e.g. from a worker or another row range) into this one. */
  merge(other: RoundTripMetrics): void {
    this.count += other.count;
    this.nonFinite += other.nonFinite;
    if (other.maxAbs > this.maxAbs) this.maxAbs = other.maxAbs;
    this.sqErr.merge(other.sqErr); this.absErr.merge(other.absErr);
    this.sqOrig.merge(other.sqOrig); this.sqApprox.merge(other.sqApprox); this.dot.merge(other.dot);
  }

  result(): ErrorMetrics {
    const n = this.count;
    const se = this.sqErr.value, so = this.sqOrig.value, sa = this.sqApprox.value;
    const normProduct = Math.sqrt(so) * Math.sqrt(sa);
    return {
      count: n,
      rmse: n ? Math.sqrt(se / n) : 0,
      maxAbs: this.maxAbs,
      meanAbs: n ? this.absErr.value / n : 0,
      relFrobenius: so > 0 ? Math.sqrt(se) / Math.sqrt(so) : se > 0 ? Infinity : 0,
      snrDb: se > 0 ? 10 * Math.log10(so / se) : Infinity,
      cosine: normProduct > 0 ? this.dot.value / normProduct : so === 0 && sa === 0 ? 1 : 0,
      nonFinite: this.nonFinite,
      ggml_rmse: n ? Math.sqrt(se) / n : 0,
    };
  }
}

/** Metrics of one pair of arrays in a single call. */
export function roundTripMetrics(orig: Float32Array, approx: Float32Array): ErrorMetrics {
  const m = new RoundTripMetrics();
  m.add(orig, approx);
  return m.result();
}
