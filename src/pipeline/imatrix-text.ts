/**
 * The words for an importance matrix, shared by the headless CLI and the TUI so both say the same:
 * the plan's imatrix line (a dry run's plan, the summary, the TUI's plan and report screens) and
 * the progress line of an `auto` computation (an `imatrix` event).
 */
import type { ImatrixFacts } from './plan.ts';
import type { ImatrixProgressEvent } from './events.ts';

/** One line naming the plan's importance matrix, or nothing. */
export function imatrixLine(s: { imatrix?: ImatrixFacts }): string[] {
  const m = s.imatrix;
  if (!m) return [];
  // A dry run of `--imatrix auto` computes nothing: say when it will be.
  if (m.file === 'auto' && m.entries === 0) return ['imatrix: auto, computed from the calibration text when the conversion runs (no weights in a dry run)'];
  const missing = m.missing.length ? `; no entry for ${m.missing.length} quantized tensor(s): ${m.missing.slice(0, 3).join(', ')}${m.missing.length > 3 ? ', …' : ''}` : '';
  return [`imatrix: ${m.file} (${m.entries} entries, ${m.chunks} chunks${m.datasets.length ? `, dataset ${m.datasets[0]}` : ''}): weights for ${m.used} tensor(s) (marked *)${missing}`];
}

/** The progress line: chunks done (and, per block, where the pass is) and the rate. */
export function imatrixProgressText(ev: ImatrixProgressEvent): string {
  const rate = ev.tokensPerSecond ? `, ${ev.tokensPerSecond.toFixed(0)} tokens/s` : '';
  if (ev.state === 'layer') return `imatrix: chunk ${ev.chunksDone}/${ev.chunksTotal}, block ${ev.layer! + 1}/${ev.nLayer}${rate}`;
  return `imatrix: ${ev.chunksDone}/${ev.chunksTotal} chunks${rate}`;
}
