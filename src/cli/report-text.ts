/**
 * Human text for a validation report: per-layer error as text bars, the worst tensors and the
 * anomalies. Shared by the headless printer and the TUI's report screen.
 */
import type { ValidationReport } from '../validate/report.ts';
import type { CalibrationReport } from '../pipeline/calib-report.ts';
import { formatCalibration } from '../pipeline/calib-report-text.ts';

const BAR_WIDTH = 30;

export function layerBars(report: ValidationReport, width = BAR_WIDTH): { label: string; value: number; bar: string }[] {
  const rows = Object.entries(report.byLayer).sort((a, b) => Number(a[0]) - Number(b[0]));
  const max = Math.max(...rows.map(([, s]) => s.meanRelFrobenius), 0);
  return rows.map(([layer, s]) => ({
    label: `layer ${layer}`,
    value: s.meanRelFrobenius,
    bar: '█'.repeat(max > 0 ? Math.max(1, Math.round((s.meanRelFrobenius / max) * width)) : 0),
  }));
}

export function formatReport(report: ValidationReport): string {
  const lines = ['round-trip error (mean relative Frobenius ‖W−Ŵ‖/‖W‖) per layer:'];
  for (const r of layerBars(report)) lines.push(`  ${r.label.padEnd(9)} ${r.value.toExponential(2)} ${r.bar}`);
  lines.push('worst tensors:');
  for (const w of report.worst) lines.push(`  ${w.name.padEnd(28)} ${w.type.padEnd(6)} rel ${w.relFrobenius.toExponential(2)}  SNR ${w.snrDb.toFixed(1)} dB`);
  lines.push(report.anomalies.length ? `anomalies (${report.anomalies.length}):` : 'anomalies: none');
  for (const a of report.anomalies) lines.push(`  ${a.code}: ${a.message}`);
  return lines.join('\n');
}

/** An AWQ/GPTQ calibration report (per-layer loss chart, scale groups, anomalies), laid out for stdout's width. */
export function formatCalibrationReport(report: CalibrationReport, out: { isTTY?: boolean; columns?: number } = process.stdout): string {
  return formatCalibration(report, out.isTTY && out.columns ? Math.max(80, out.columns) : 100);
}
