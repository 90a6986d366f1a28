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
 *
 * Plain JS (types in metrics.d.mts) so the pool workers (kernels/fast/worker.mjs) measure each
 * quantize job where they made it, with no TypeScript loader and no second dequantize round trip.
 */

/** A float64 sum with Neumaier compensation. */
class CompensatedSum {
  sum = 0;
  comp = 0;
  /** @param {number} v */
  add(v) {
    const t = this.sum + v;
    if (Math.abs(this.sum) >= Math.abs(v)) this.comp += this.sum - t + v;
    else this.comp += v - t + this.sum;
    this.sum = t;
  }
  /** @param {{ sum: number, comp: number }} o */
  merge(o) {
    this.add(o.sum);
    this.add(o.comp);
  }
  get value() {
    return this.sum + this.comp;
  }
}

const BLOCK = 256;

const SUMS = ['sqErr', 'absErr', 'sqOrig', 'sqApprox', 'dot'];

export class RoundTripMetrics {
  count = 0;
  nonFinite = 0;
  maxAbs = 0;
  sqErr = new CompensatedSum();
  absErr = new CompensatedSum();
  sqOrig = new CompensatedSum();
  sqApprox = new CompensatedSum();
  dot = new CompensatedSum();

  /** Adds the pairs orig[i], approx[i] for i in [start, end) (default: the whole arrays). */
  /** @param {Float32Array} orig @param {Float32Array} approx @param {number} [start] @param {number} [end] */
  add(orig, approx, start = 0, end = orig.length) {
    if (approx.length < end || orig.length < end || start < 0 || start > end) {
      throw new RangeError(`metrics: range [${start}, ${end}) outside arrays of ${orig.length} and ${approx.length}`);
    }
    let maxAbs = this.maxAbs, count = 0, nonFinite = 0;
    for (let b = start; b < end; b += BLOCK) {
      const e = Math.min(end, b + BLOCK);
      let se = 0, ae = 0, so = 0, sa = 0, sd = 0;
      for (let i = b; i < e; i++) {
        const w = orig[i], q = approx[i];
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

  /**
   * An accumulator in the state the wasm kernel `roundTripAccumulate` keeps (which does add()'s
   * float64 work, compensation included, in add()'s order): sum and compensation of Σd², Σ|d|,
   * Σw², Σq², Σwq, then max|d|, the finite count and the skipped count. Same result as add() on
   * the same pairs from a fresh accumulator.
   * @param {Float64Array} state
   */
  static fromState(state) {
    const m = new RoundTripMetrics();
    SUMS.forEach((k, i) => {
      m[k].sum = state[2 * i];
      m[k].comp = state[2 * i + 1];
    });
    m.maxAbs = state[10];
    m.count = state[11];
    m.nonFinite = state[12];
    return m;
  }

  /**
   * Folds another accumulator (e.g. from a worker or another row range) into this one. `other`
   * may also be its structured clone, as a worker's reply carries it.
   * @param {import('./metrics.d.mts').MetricsState} other
   */
  merge(other) {
    this.count += other.count;
    this.nonFinite += other.nonFinite;
    if (other.maxAbs > this.maxAbs) this.maxAbs = other.maxAbs;
    for (const k of SUMS) this[k].merge(other[k]);
  }

  /** @returns {import('./metrics.d.mts').ErrorMetrics} */
  result() {
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
/** @param {Float32Array} orig @param {Float32Array} approx */
export function roundTripMetrics(orig, approx) {
  const m = new RoundTripMetrics();
  m.add(orig, approx);
  return m.result();
}
