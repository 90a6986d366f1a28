/**
 * Download progress for the headless CLI, from the pipeline's download events.
 * On a terminal: one bar per file being fetched (bytes, MiB/s, ETA) and a total line, redrawn in
 * place below the log; resumes, retries and finished files are permanent lines above it.
 * Not on a terminal: the permanent lines only (no progress spam in logs and pipes).
 */
import type { DownloadEvent, TransferProgress } from '../pipeline/events.ts';
import { formatBytes } from '../format-units.ts';

export interface BarStream {
  write(s: string): unknown;
  columns?: number;
}

const MiB = 1024 * 1024;

export function formatRate(bytesPerSecond: number): string {
  return `${(bytesPerSecond / MiB).toFixed(2)} MiB/s`;
}

export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return 'ETA ?';
  const s = Math.ceil(seconds);
  return s < 60 ? `ETA ${s} s` : s < 3600 ? `ETA ${Math.floor(s / 60)} min ${s % 60} s` : `ETA ${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export function textBar(fraction: number, width: number): string {
  const f = Math.max(0, Math.min(1, Number.isFinite(fraction) ? fraction : 0));
  const full = Math.round(f * width);
  return `${'█'.repeat(full)}${'░'.repeat(width - full)} ${String(Math.floor(f * 100)).padStart(3)}%`;
}

/** `3.84 MiB / 8.00 MiB  2.01 MiB/s  ETA 3 s` */
function figures(p: TransferProgress): string {
  return `${formatBytes(p.bytesDone).padStart(10)} / ${formatBytes(p.bytesTotal).padEnd(10)} ${formatRate(p.rate).padStart(11)}  ${formatEta(p.etaSeconds)}`;
}

const fit = (s: string, n: number) => (s.length <= n ? s.padEnd(n) : `…${s.slice(s.length - n + 1)}`);

export class DownloadBar {
  private readonly active = new Map<string, DownloadEvent>();
  private readonly started = new Map<string, number>();
  private overall: TransferProgress | null = null;
  private firstStart = 0;
  private files = 0;
  private drawn = 0;
  private finished = false;

  constructor(private readonly out: BarStream, private readonly tty: boolean, private readonly now: () => number = () => Date.now()) {}

  handle(ev: DownloadEvent): void {
    if (!this.firstStart) this.firstStart = this.now();
    this.overall = ev.overall;
    const lines = this.notes(ev);
    if (ev.state === 'start' || ev.state === 'progress' || ev.state === 'retry') this.active.set(ev.file, ev);
    else {
      this.active.delete(ev.file);
      this.files++;
    }
    if (!this.finished && this.active.size === 0 && ev.overall.bytesDone >= ev.overall.bytesTotal) {
      this.finished = true;
      lines.push(`download: ${this.files} file${this.files === 1 ? '' : 's'} · ${formatBytes(ev.overall.bytesTotal)} in ${((this.now() - this.firstStart) / 1000).toFixed(1)} s`);
    }
    if (!this.tty) {
      for (const l of lines) this.out.write(l + '\n');
      return;
    }
    this.clear();
    for (const l of lines) this.out.write(l + '\n');
    this.draw();
  }

  /** Erases the live block (before the caller writes other lines; the next event redraws it). */
  clear(): void {
    if (this.drawn) this.out.write(`\x1b[${this.drawn}A\r\x1b[J`);
    this.drawn = 0;
  }

  /** The permanent lines one event deserves. */
  private notes(ev: DownloadEvent): string[] {
    const p = ev.fileProgress;
    const at = `${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}`;
    switch (ev.state) {
      case 'start':
        this.started.set(ev.file, this.now());
        if (p.bytesDone > 0) return [`download ${ev.file}: resuming at ${at}`];
        return this.tty ? [] : [`download ${ev.file}: start (${formatBytes(p.bytesTotal)})`];
      case 'progress':
        return [];
      case 'retry': {
        const r = ev.retry;
        if (!r) return [`download ${ev.file}: retrying, resuming at ${at}`];
        // The error names repo@commit and the file first; this line already names the file.
        const i = r.reason.lastIndexOf(`${ev.file}: `);
        const why = i >= 0 ? r.reason.slice(i + ev.file.length + 2) : r.reason;
        return [`download ${ev.file}: retry ${r.attempt}/${r.retries} after ${(r.delayMs / 1000).toFixed(1)} s, resuming at ${at} (${why})`];
      }
      case 'done': {
        const secs = Math.max(0.001, (this.now() - (this.started.get(ev.file) ?? this.now())) / 1000);
        return [`download ${ev.file}: done · ${formatBytes(p.bytesTotal)} in ${secs.toFixed(1)} s`];
      }
      case 'cached':
        return [`download ${ev.file}: cached · ${formatBytes(p.bytesTotal)}`];
    }
  }

  private draw(): void {
    if (this.active.size === 0 || !this.overall) return;
    const columns = Math.max(60, this.out.columns ?? 80);
    // name, bar (12 + 5 for the percentage) and the figures (~48) share the width.
    const nameW = Math.max(12, Math.min(40, columns - 68));
    const rows = [...this.active.values()].slice(0, 8).map((ev) => {
      const p = ev.fileProgress;
      return `  ${fit(ev.file, nameW)} ${textBar(p.bytesTotal ? p.bytesDone / p.bytesTotal : 0, 12)} ${figures(p)}`;
    });
    if (this.active.size > 8) rows.push(`  … ${this.active.size - 8} more`);
    const o = this.overall;
    rows.push(`  ${fit('total', nameW)} ${textBar(o.bytesTotal ? o.bytesDone / o.bytesTotal : 0, 12)} ${figures(o)}`);
    this.out.write(rows.map((r) => r.slice(0, columns - 1)).join('\n') + '\n');
    this.drawn = rows.length;
  }
}
