/**
 * Anomaly rules over the per-layer calibration losses, taken from what AutoGPTQ users look for in
 * its "avg loss" log: an early layer (1–3) with a large loss points to bad calibration data or a
 * tokenizer mismatch (the first layers see little signal and should quantize almost losslessly);
 * a module whose loss jumps far above the same module in the neighbouring layers is worth a look;
 * a non-finite loss is always broken. Each threshold is a CLI flag.
 */
import type { CalibAnomaly, LayerCalibration } from '../pipeline/calib-report.ts';

export interface AnomalyThresholds {
  /** Layers 1…earlyLayers (1-based, as AutoGPTQ logs them) are "early" (default 3). */
  earlyLayers?: number;
  /** Average module loss above which an early layer is flagged (default 1.0). */
  earlyLoss?: number;
  /** A module loss more than this many times the median of the same module in the ±2 neighbouring layers (default 10). */
  outlierFactor?: number;
}

export const DEFAULT_THRESHOLDS: Required<AnomalyThresholds> = { earlyLayers: 3, earlyLoss: 1.0, outlierFactor: 10 };

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export function findAnomalies(layers: LayerCalibration[], thresholds: AnomalyThresholds = {}): CalibAnomaly[] {
  const given = Object.fromEntries(Object.entries(thresholds).filter(([, v]) => v !== undefined));
  const t = { ...DEFAULT_THRESHOLDS, ...given } as Required<AnomalyThresholds>;
  const out: CalibAnomaly[] = [];
  for (const l of layers) {
    for (const m of l.modules) {
      if (!Number.isFinite(m.loss)) out.push({ rule: 'non-finite-loss', layer: l.layer, module: m.module, loss: m.loss, message: `layer ${l.layer + 1} ${m.module}: loss is ${m.loss}` });
    }
    const finite = l.modules.filter((m) => Number.isFinite(m.loss));
    if (l.layer < t.earlyLayers && finite.length) {
      const avg = finite.reduce((a, m) => a + m.loss, 0) / finite.length;
      if (avg > t.earlyLoss) {
        out.push({ rule: 'early-layer-loss', layer: l.layer, loss: avg, message: `layer ${l.layer + 1}: average loss ${avg.toPrecision(4)} > ${t.earlyLoss} in an early layer (1–${t.earlyLayers}): check the calibration text and the tokenizer` });
      }
    }
    for (const m of finite) {
      const near = layers
        .filter((o) => o !== l && Math.abs(o.layer - l.layer) <= 2)
        .flatMap((o) => o.modules.filter((x) => x.module === m.module && Number.isFinite(x.loss)).map((x) => x.loss));
      if (!near.length) continue;
      const ref = median(near);
      if (m.loss > t.outlierFactor * ref && m.loss > 0) {
        out.push({ rule: 'outlier-loss', layer: l.layer, module: m.module, loss: m.loss, message: `layer ${l.layer + 1} ${m.module}: loss ${m.loss.toPrecision(4)} is more than ${t.outlierFactor}× its neighbours' median ${ref.toPrecision(4)}` });
      }
    }
  }
  return out;
}
