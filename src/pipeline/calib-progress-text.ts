/**
 * One line of calibration progress (a `calibrate` event): layer i/N, the module, the samples and
 * an ETA. Shared by the headless progress line and the TUI run screen, so both say the same.
 */
import { untrusted } from '../../formats/untrusted-text.ts';
import type { CalibProgressEvent } from './events.ts';
import { lossText } from './calib-report-text.ts';

/** 75 → `1m15s`, 4000 → `1h06m`, 8.2 → `8s`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** The line, most useful first (a narrow terminal cuts the end): position, module, time and ETA, samples. */
export function calibProgressText(ev: CalibProgressEvent): string {
  const what = ev.method ? `${ev.method} ` : '';
  const samples = `${ev.samples} samples${ev.seqlen ? ` × ${ev.seqlen} tokens` : ''}`;
  const time = `${formatDuration(ev.seconds)}${ev.etaSeconds !== undefined && Number.isFinite(ev.etaSeconds) ? `, ETA ${formatDuration(ev.etaSeconds)}` : ''}`;
  switch (ev.state) {
    case 'start':
      return `calibrate: ${what}${ev.nLayer} layers, ${samples}`;
    case 'module': {
      const through = ev.samplesDone !== undefined ? `${ev.samplesDone}/${samples}` : samples;
      return `calibrate: layer ${ev.layer + 1}/${ev.nLayer} ${untrusted(ev.module ?? '', 60)}${ev.loss !== undefined ? ` loss ${lossText(ev.loss)}` : ''} · ${time} · ${through}`;
    }
    case 'layer':
      return `calibrate: layer ${ev.layer + 1}/${ev.nLayer} done · ${time} · ${samples}`;
    case 'done':
      return `calibrate: ${what}${ev.nLayer} layers done in ${formatDuration(ev.seconds)}`;
  }
}
