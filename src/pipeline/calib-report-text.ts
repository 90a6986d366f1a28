/**
 * The calibration report as text (convert's summary, after the round-trip report): one line per
 * layer with every module's loss (AutoGPTQ's "avg loss"; AWQ: the chosen ratio per scale group),
 * then the anomalies the rules flagged.
 */
import type { CalibrationReport } from './calib-report.ts';

const num = (x: number) => (Number.isFinite(x) ? (Math.abs(x) >= 1e4 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(2) : x.toPrecision(4)) : String(x));

export function renderCalibrationReport(r: CalibrationReport): string {
  const lines = [`calibration (${r.method}): ${r.calib.samples} samples × ${r.calib.seqlen} tokens from ${r.calib.source}, seed ${r.calib.seed}, ${r.seconds.toFixed(1)} s`];
  for (const l of r.layers) {
    const mods = l.modules.map((m) => `${m.module} ${num(m.loss)}`).join('  ');
    const groups = l.scaleGroups?.length ? `  | ${l.scaleGroups.map((g) => `${g.prevOp} ratio ${g.ratio.toFixed(2)} (${num(g.lossBefore)} → ${num(g.lossAfter)})`).join('  ')}` : '';
    lines.push(`  layer ${String(l.layer + 1).padStart(3)}: ${mods}${groups}  (${l.seconds.toFixed(1)} s)`);
  }
  if (r.anomalies.length) {
    lines.push(`calibration anomalies (${r.anomalies.length}):`);
    for (const a of r.anomalies) lines.push(`  [${a.rule}] ${a.message}`);
  } else lines.push('calibration anomalies: none');
  return lines.join('\n');
}
