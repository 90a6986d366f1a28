/**
 * The anomaly rules of a calibration report, as data: each rule has a name (the `rule` of the
 * CalibAnomaly it produces), the flag that sets its threshold, and a pure check over the layers.
 * Taken from what AutoGPTQ users read in its "avg loss" logs:
 *
 * - `early-layer-loss`: the first layers (AutoGPTQ's layers 1–3, our 0-based 0–2) quantize with a
 *   small loss on sane data; an average above the threshold (default 1.0) points to calibration
 *   text that does not fit the model or a tokenizer problem.
 * - `outlier-loss`: a module whose loss is more than `outlierFactor` (default 10) times the median
 *   loss of the same module in the layers around it (±`outlierWindow`, default 2; at least two
 *   finite neighbours). Losses grow smoothly with depth, usually well under 2× per layer, so a
 *   10× step is a layer that went wrong, not the trend. The median (not the mean) keeps one bad
 *   neighbour from hiding another. A median of 0 (exactly representable weights) flags nothing.
 * - `non-finite-loss`: any NaN or ±Inf loss (a module's, or an AWQ scale group's before/after):
 *   the solver diverged or the activations overflowed.
 */
import type { CalibAnomaly, LayerCalibration } from './calib-report.ts';

export interface LossThresholds {
  /** `--loss-early-threshold`: average module loss above which an early layer is flagged. */
  earlyThreshold: number;
  /** How many leading layers count as early (AutoGPTQ users look at layers 1–3). */
  earlyLayers: number;
  /** `--loss-outlier-factor`: a loss this many times its neighbours' median is flagged. */
  outlierFactor: number;
  /** Neighbours on each side compared with (same module). */
  outlierWindow: number;
}

export const DEFAULT_LOSS_THRESHOLDS: Readonly<LossThresholds> = { earlyThreshold: 1.0, earlyLayers: 3, outlierFactor: 10, outlierWindow: 2 };

export interface AnomalyRule {
  name: CalibAnomaly['rule'];
  /** The flag that sets the rule's threshold, if it has one. */
  flag?: string;
  summary: string;
  check: (layers: LayerCalibration[], t: LossThresholds) => CalibAnomaly[];
}

const fmt = (x: number) => (Number.isFinite(x) ? (Math.abs(x) >= 0.01 && Math.abs(x) < 1000 ? x.toPrecision(3) : x.toExponential(2)) : String(x));

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Mean of a layer's finite module losses (non-finite ones are the other rule's). */
export function layerMeanLoss(layer: LayerCalibration): number {
  const xs = layer.modules.map((m) => m.loss).filter(Number.isFinite);
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

export const ANOMALY_RULES: readonly AnomalyRule[] = [
  {
    name: 'non-finite-loss',
    summary: 'a NaN or infinite loss (module, or AWQ scale group before/after)',
    check: (layers) => layers.flatMap((l) => [
      ...l.modules.filter((m) => !Number.isFinite(m.loss)).map((m): CalibAnomaly => ({
        rule: 'non-finite-loss', layer: l.layer, module: m.module, loss: m.loss,
        message: `layer ${l.layer} ${m.module}: loss is ${m.loss} (the solver diverged or the activations overflowed)`,
      })),
      ...(l.scaleGroups ?? []).filter((g) => !Number.isFinite(g.lossBefore) || !Number.isFinite(g.lossAfter)).map((g): CalibAnomaly => {
        const loss = Number.isFinite(g.lossAfter) ? g.lossBefore : g.lossAfter;
        return {
          rule: 'non-finite-loss', layer: l.layer, module: scaleGroupLabel(g), loss,
          message: `layer ${l.layer} scale group ${scaleGroupLabel(g)}: loss ${fmt(g.lossBefore)} → ${fmt(g.lossAfter)} is not finite`,
        };
      }),
    ]),
  },
  {
    name: 'early-layer-loss',
    flag: '--loss-early-threshold',
    summary: 'one of the first layers has an average loss above the threshold (bad calibration text or tokenizer)',
    check: (layers, t) => layers.filter((l) => l.layer < t.earlyLayers).flatMap((l) => {
      const mean = layerMeanLoss(l);
      if (!(mean > t.earlyThreshold)) return [];
      return [{
        rule: 'early-layer-loss', layer: l.layer, loss: mean,
        message: `layer ${l.layer}: average loss ${fmt(mean)} is above ${t.earlyThreshold} (--loss-early-threshold); an early layer should quantize easily: check the calibration text and the tokenizer`,
      }];
    }),
  },
  {
    name: 'outlier-loss',
    flag: '--loss-outlier-factor',
    summary: 'a module loss far above the same module in the neighbouring layers',
    check: (layers, t) => {
      const byLayer = new Map(layers.map((l) => [l.layer, l]));
      const first = Math.min(...layers.map((l) => l.layer));
      const last = Math.max(...layers.map((l) => l.layer));
      const out: CalibAnomaly[] = [];
      for (const l of layers) {
        for (const m of l.modules) {
          if (!Number.isFinite(m.loss)) continue;
          const near: number[] = [];
          for (let d = -t.outlierWindow; d <= t.outlierWindow; d++) {
            const n = d === 0 ? undefined : byLayer.get(l.layer + d)?.modules.find((x) => x.module === m.module);
            if (n && Number.isFinite(n.loss)) near.push(n.loss);
          }
          if (near.length < 2) continue;
          const med = median(near);
          if (med > 0 && m.loss > t.outlierFactor * med) {
            out.push({
              rule: 'outlier-loss', layer: l.layer, module: m.module, loss: m.loss,
              message: `layer ${l.layer} ${m.module}: loss ${fmt(m.loss)} is ${fmt(m.loss / med)}× the median ${fmt(med)} of ${m.module} in layers ${Math.max(first, l.layer - t.outlierWindow)}…${Math.min(last, l.layer + t.outlierWindow)} (--loss-outlier-factor ${t.outlierFactor})`,
            });
          }
        }
      }
      return out;
    },
  },
];

export function scaleGroupLabel(g: { prevOp: string; modules: string[] }): string {
  return `${g.prevOp}→${g.modules.join(',')}`;
}

/** Every rule over the layers, ordered by layer (then by rule order); thresholds not given take the defaults. */
export function findAnomalies(layers: LayerCalibration[], thresholds: Partial<LossThresholds> = {}): CalibAnomaly[] {
  const t = resolveThresholds(thresholds);
  const all = ANOMALY_RULES.flatMap((r, ri) => r.check(layers, t).map((a, i) => ({ a, ri, i })));
  return all.sort((x, y) => x.a.layer - y.a.layer || x.ri - y.ri || x.i - y.i).map((x) => x.a);
}

/** Defaults filled in; `undefined` entries (a flag not given) do not override. */
export function resolveThresholds(t: Partial<LossThresholds>): LossThresholds {
  const out = { ...DEFAULT_LOSS_THRESHOLDS };
  for (const k of Object.keys(out) as (keyof LossThresholds)[]) if (t[k] !== undefined) out[k] = t[k]!;
  return out;
}
