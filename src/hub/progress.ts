/**
 * Bytes done / total, a smoothed rate and an ETA for one file or for the whole pull. Bytes that
 * were already on disk (a resumed partial, a cached blob) count as done but not towards the rate,
 * so the ETA is not fooled by them.
 */
import type { TransferProgress } from '../pipeline/events.ts';

export class TransferMeter {
  bytesDone = 0;
  bytesTotal: number;
  private rate = 0;
  private windowStart: number;
  private windowBytes = 0;
  private readonly now: () => number;

  constructor(bytesTotal: number, now: () => number = () => performance.now()) {
    this.bytesTotal = bytesTotal;
    this.now = now;
    this.windowStart = now();
  }

  /** Bytes that were already present: done, but not transferred now. */
  skip(n: number): void {
    this.bytesDone += n;
  }

  add(n: number): void {
    this.bytesDone += n;
    this.windowBytes += n;
    const t = this.now();
    const dt = (t - this.windowStart) / 1000;
    // Fold the last ≥250 ms into an exponential moving average: steady, but follows real changes.
    if (dt >= 0.25) {
      const sample = this.windowBytes / dt;
      this.rate = this.rate === 0 ? sample : 0.7 * this.rate + 0.3 * sample;
      this.windowStart = t;
      this.windowBytes = 0;
    }
  }

  /** A restarted download: take back the bytes that must be fetched again. */
  rewind(n: number): void {
    this.bytesDone = Math.max(0, this.bytesDone - n);
  }

  snapshot(): TransferProgress {
    let rate = this.rate;
    if (rate === 0 && this.windowBytes > 0) {
      const dt = (this.now() - this.windowStart) / 1000;
      if (dt > 0) rate = this.windowBytes / dt;
    }
    const left = Math.max(0, this.bytesTotal - this.bytesDone);
    const etaSeconds = left === 0 ? 0 : rate > 0 ? left / rate : null;
    return { bytesDone: this.bytesDone, bytesTotal: this.bytesTotal, rate, etaSeconds };
  }
}
