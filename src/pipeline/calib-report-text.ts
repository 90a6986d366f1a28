/**
 * A calibration report (AWQ/GPTQ) as text lines: a per-layer chart of module losses on a log
 * scale (losses span orders of magnitude from the first layer to the last), the AWQ scale groups
 * with their ratio and loss before → after, and the anomalies. Pure: the headless report joins the
 * lines, the TUI report screen colours them by `tone` and scrolls the body.
 *
 * Width-aware: every line is at most `width` characters. At 130 columns and more the table also
 * has one column per module; narrower, it shows each layer's mean and max (and which module).
 * Module, tensor and file names come from input files and are escaped.
 */
import { safeMessage, untrusted } from '../../formats/untrusted-text.ts';
import type { CalibAnomaly, CalibrationReport, LayerCalibration } from './calib-report.ts';
import { layerMeanLoss, scaleGroupLabel } from './calib-anomalies.ts';

export type LineTone = 'accent' | 'warn' | 'bad' | 'dim' | 'good';

export interface ChartLine {
  text: string;
  tone?: LineTone;
  bold?: boolean;
}

export interface CalibChart {
  /** Title, scale and column headings: always shown. */
  head: ChartLine[];
  /** One per layer, then the AWQ groups and the anomalies: the part that scrolls. */
  body: ChartLine[];
}

/** Width at which per-module columns are added. */
export const WIDE_COLUMNS = 130;
const NUM_W = 8;
const MIN_BAR = 10;
/** Longer bars add no reading precision to a log scale of a few decades. */
const MAX_BAR = 60;

/** `1.23e-3`, or the non-finite value's name; always ≤ 8 characters. */
export function lossText(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Inf' : '-Inf';
  return x === 0 ? '0' : x.toExponential(2);
}

const fit = (s: string, n: number) => ([...s].length <= n ? s : [...s].slice(0, Math.max(0, n - 1)).join('') + '…');
/** A short column name for a module: `attn_q` → `q`, `attn_output` → `o`, `ffn_down` → `down`. */
const shortModule = (m: string) => (m === 'attn_output' ? 'o' : m.replace(/^(attn|ffn)_/, ''));

/** Module names in first-seen order over all layers (the column order). */
function moduleOrder(layers: LayerCalibration[]): string[] {
  const seen = new Set<string>();
  for (const l of layers) for (const m of l.modules) seen.add(m.module);
  return [...seen];
}

/** The decades the bar spans: [lo, hi] exponents over every finite positive loss. */
function logRange(layers: LayerCalibration[]): [number, number] {
  const xs = layers.flatMap((l) => l.modules.map((m) => m.loss)).filter((x) => Number.isFinite(x) && x > 0);
  if (!xs.length) return [0, 1];
  const lo = Math.floor(Math.log10(Math.min(...xs)));
  const hi = Math.ceil(Math.log10(Math.max(...xs)));
  return [lo, hi > lo ? hi : lo + 1];
}

/** A log-scale bar: █ up to the layer's mean, ░ on to its max. */
function bar(mean: number, max: number, [lo, hi]: [number, number], width: number): string {
  const pos = (x: number) => (Number.isFinite(x) && x > 0 ? Math.max(1, Math.round(((Math.log10(x) - lo) / (hi - lo)) * width)) : 0);
  const a = Math.min(width, pos(mean));
  const b = Math.min(width, Math.max(a, pos(max)));
  return '█'.repeat(a) + '░'.repeat(b - a);
}

export function calibChart(report: CalibrationReport, width: number): CalibChart {
  const layers = [...report.layers].sort((a, b) => a.layer - b.layer);
  const flagged = new Map<number, CalibAnomaly[]>();
  for (const a of report.anomalies) flagged.set(a.layer, [...(flagged.get(a.layer) ?? []), a]);
  const modules = moduleOrder(layers);
  const wide = width >= WIDE_COLUMNS;
  const range = logRange(layers);
  const layerW = Math.max(5, String(Math.max(0, ...layers.map((l) => l.layer))).length);
  const worstW = Math.min(11, Math.max(5, ...modules.map((m) => untrusted(m).length)));
  const modCols = wide ? modules.map((m) => fit(untrusted(shortModule(m)), NUM_W).padStart(NUM_W)).join(' ') + ' ' : '';
  // "! layer  mean     max      worst       [modules] bar"
  const fixedW = 2 + layerW + 1 + NUM_W + 1 + NUM_W + 1 + worstW + 1 + (wide ? modules.length * (NUM_W + 1) : 0);
  const barW = Math.min(MAX_BAR, Math.max(MIN_BAR, width - fixedW));

  const c = report.calib;
  const head: ChartLine[] = [
    { text: fit(`${report.method.toUpperCase()} calibration: ${layers.length} layers in ${report.seconds.toFixed(1)} s · ${c.samples} × ${c.seqlen} tokens, seed ${c.seed} · ${untrusted(c.source)}`, width), bold: true },
    { text: fit(`loss per layer, log scale 1e${range[0]} … 1e${range[1]}: █ mean ░ max${report.method === 'gptq' ? ' (GPTQ avg loss)' : ' (AWQ clip loss)'}`, width), tone: 'dim' },
    { text: fit(`  ${'layer'.padStart(layerW)} ${'mean'.padStart(NUM_W)} ${'max'.padStart(NUM_W)} ${'worst'.padEnd(worstW)} ${modCols}`, width), tone: 'dim' },
  ];

  const body: ChartLine[] = [];
  for (const l of layers) {
    const losses = l.modules.map((m) => m.loss);
    const finite = losses.filter(Number.isFinite);
    const nonFinite = losses.find((x) => !Number.isFinite(x));
    const mean = layerMeanLoss(l);
    const max = finite.length ? Math.max(...finite) : NaN;
    const worst = l.modules.find((m) => m.loss === max)?.module ?? '';
    const marks = flagged.get(l.layer) ?? [];
    const badModules = new Set(marks.map((a) => a.module).filter(Boolean));
    const cells = wide
      ? modules.map((name) => {
        const m = l.modules.find((x) => x.module === name);
        const t = m ? lossText(m.loss) : '-';
        return (badModules.has(name) ? `!${t}` : t).padStart(NUM_W);
      }).join(' ') + ' '
      : '';
    const b = nonFinite !== undefined ? `✗ ${lossText(nonFinite)}` : bar(mean, max, range, barW);
    const text = `${marks.length ? '!' : ' '} ${String(l.layer).padStart(layerW)} ${lossText(mean).padStart(NUM_W)} ${lossText(max).padStart(NUM_W)} ${fit(untrusted(worst), worstW).padEnd(worstW)} ${cells}${b}`;
    body.push({ text: fit(text, width), tone: nonFinite !== undefined ? 'bad' : marks.length ? 'warn' : undefined });
  }

  const groups = layers.flatMap((l) => (l.scaleGroups ?? []).map((g) => ({ layer: l.layer, g })));
  if (groups.length) {
    body.push({ text: fit('AWQ scale groups: chosen ratio, loss before → after', width), bold: true });
    const labelW = Math.min(Math.max(...groups.map(({ g }) => untrusted(scaleGroupLabel(g)).length)), Math.max(12, width - (layerW + 44)));
    for (const { layer, g } of groups) {
      const change = Number.isFinite(g.lossBefore) && Number.isFinite(g.lossAfter) && g.lossBefore > 0 ? ` (${pct((g.lossAfter - g.lossBefore) / g.lossBefore)})` : '';
      const ok = Number.isFinite(g.lossBefore) && Number.isFinite(g.lossAfter);
      const text = `  ${String(layer).padStart(layerW)} ${fit(untrusted(scaleGroupLabel(g)), labelW).padEnd(labelW)} ratio ${g.ratio.toFixed(2)}  ${lossText(g.lossBefore)} → ${lossText(g.lossAfter)}${change}`;
      body.push({ text: fit(text, width), tone: ok ? undefined : 'bad' });
    }
  }

  if (report.anomalies.length) {
    body.push({ text: fit(`calibration anomalies (${report.anomalies.length}):`, width), tone: 'warn', bold: true });
    for (const a of report.anomalies) body.push({ text: fit(`  ${a.rule}: ${safeMessage(a.message).replace(/\s+/g, ' ')}`, width), tone: a.rule === 'non-finite-loss' ? 'bad' : 'warn' });
  } else body.push({ text: 'calibration anomalies: none', tone: 'good' });
  return { head, body };
}

const pct = (x: number) => `${x > 0 ? '+' : x < 0 ? '−' : '±'}${Math.abs(100 * x).toFixed(1)}%`;

/**
 * The whole report as text for the headless printer. Anomaly messages are not cut there (a
 * terminal wraps them); the chart is laid out for `width` columns.
 */
export function formatCalibration(report: CalibrationReport, width = 100): string {
  const chart = calibChart(report, width);
  const lines = [...chart.head, ...chart.body].map((l) => l.text);
  const cut = lines.findIndex((l) => l.startsWith('calibration anomalies ('));
  if (cut >= 0) lines.splice(cut + 1, lines.length, ...report.anomalies.map((a) => `  ${a.rule}: ${safeMessage(a.message)}`));
  return lines.join('\n');
}
