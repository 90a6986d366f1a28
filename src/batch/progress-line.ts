/**
 * The batch's live progress on a terminal: one rewritten stderr line with every running job's
 * tensor count (`#2 q4_0 12/47 · #3 q8_0 30/47`). Job lines are printed above it. When stderr
 * is not a TTY nothing is drawn, so piped output stays plain lines.
 */
import type { BatchEvent } from './run-batch.ts';

export class BatchProgressLine {
  private running = new Map<number, { type: string; done: number; count: number }>();
  private drawn = false;
  constructor(private readonly err: { write(s: string): unknown; isTTY?: boolean }) {}

  /** Updates from one event; `line` (a job line) is printed above the live line. */
  update(ev: BatchEvent, line: string | null): void {
    if (ev.type === 'job') {
      if (ev.state === 'start') this.running.set(ev.job.id, { type: ev.job.type, done: 0, count: 0 });
      else this.running.delete(ev.job.id);
    } else if (ev.type === 'tensor' && ev.state === 'done') {
      const r = this.running.get(ev.job);
      if (r) {
        r.done = ev.index + 1;
        r.count = ev.count;
      }
    }
    if (!this.err.isTTY) {
      if (line) this.err.write(line + '\n');
      return;
    }
    if (line === null && !(ev.type === 'tensor' && ev.state === 'done')) return;
    this.clear();
    if (line) this.err.write(line + '\n');
    const parts = [...this.running].map(([id, r]) => `#${id} ${r.type} ${r.count ? `${r.done}/${r.count}` : '…'}`);
    if (parts.length) {
      this.err.write(`running: ${parts.join(' · ')}`);
      this.drawn = true;
    }
  }

  clear(): void {
    if (this.drawn) this.err.write('\r\x1b[K');
    this.drawn = false;
  }
}
