/**
 * Round-trip error accumulator with the contract of `kernels/metrics.ts` `RoundTripMetrics`
 * (add(orig, approx) over chunks, then result()). Local until the shared one lands; the fields
 * are the pipeline's `TensorMetrics`.
 */
import type { TensorMetrics } from '../events.ts';

export class RoundTripMetrics {
  private n = 0;
  private sd = 0; private so = 0; private sa = 0; private soa = 0;
  private maxAbs = 0; private sumAbs = 0; private nonFinite = 0;

  add(orig: Float32Array, approx: Float32Array): void {
    if (orig.length !== approx.length) throw new RangeError(`metrics: ${orig.length} originals vs ${approx.length} approximations`);
    for (let i = 0; i < orig.length; i++) {
      const o = orig[i]!, a = approx[i]!;
      if (!Number.isFinite(a)) { this.nonFinite++; continue; }
      const d = o - a;
      const ad = Math.abs(d);
      this.sd += d * d; this.so += o * o; this.sa += a * a; this.soa += o * a;
      this.sumAbs += ad;
      if (ad > this.maxAbs) this.maxAbs = ad;
      this.n++;
    }
  }

  result(): TensorMetrics & { count: number } {
    const n = this.n;
    return {
      count: n + this.nonFinite,
      rmse: n ? Math.sqrt(this.sd / n) : 0,
      maxAbs: this.maxAbs,
      meanAbs: n ? this.sumAbs / n : 0,
      relFrobenius: this.so > 0 ? Math.sqrt(this.sd / this.so) : (this.sd > 0 ? Infinity : 0),
      snrDb: this.sd > 0 ? 10 * Math.log10(this.so / this.sd) : Infinity,
      cosine: this.so > 0 && this.sa > 0 ? this.soa / Math.sqrt(this.so * this.sa) : (this.so === this.sa ? 1 : 0),
      nonFinite: this.nonFinite,
      ggml_rmse: n ? Math.sqrt(this.sd) / n : 0,
    };
  }
}
