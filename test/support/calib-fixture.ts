/**
 * Synthetic calibration reports for the anomaly rules, the text chart and the TUI report: losses
 * that grow smoothly with depth (×1.5 per layer, as GPTQ logs do), with spikes and non-finite
 * values placed where a test wants them.
 */
import type { CalibrationReport, LayerCalibration } from '../../src/pipeline/calib-report.ts';

export const MODULES = ['attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_gate', 'ffn_up', 'ffn_down'];

export interface FixtureOptions {
  nLayer?: number;
  method?: 'gptq' | 'awq';
  /** Loss of attn_q in layer 0; the others are multiples of it. */
  base?: number;
  growth?: number;
  /** Overrides: `layer:module` → loss. */
  set?: Record<string, number>;
}

export function calibLayers(o: FixtureOptions = {}): LayerCalibration[] {
  const n = o.nLayer ?? 8;
  const base = o.base ?? 1e-3;
  const growth = o.growth ?? 1.5;
  return Array.from({ length: n }, (_, layer) => ({
    layer,
    seconds: 0.5,
    modules: MODULES.map((module, i) => ({
      module, tensor: `model.layers.${layer}.${module.startsWith('attn') ? 'self_attn' : 'mlp'}.${module}`,
      loss: o.set?.[`${layer}:${module}`] ?? base * growth ** layer * (1 + i * 0.5),
    })),
    ...(o.method === 'awq' ? {
      scaleGroups: [
        { prevOp: 'attn_norm', modules: ['attn_q', 'attn_k', 'attn_v'], ratio: 0.45, lossBefore: 2e-3 * growth ** layer, lossAfter: 1e-3 * growth ** layer },
        { prevOp: 'ffn_norm', modules: ['ffn_gate', 'ffn_up'], ratio: 0.3, lossBefore: 4e-3 * growth ** layer, lossAfter: 3e-3 * growth ** layer },
      ],
    } : {}),
  }));
}

export function calibReport(o: FixtureOptions = {}, anomalies: CalibrationReport['anomalies'] = []): CalibrationReport {
  return {
    method: o.method ?? 'gptq',
    calib: { source: 'calib.txt', samples: 128, seqlen: 512, seed: 42 },
    layers: calibLayers(o),
    anomalies,
    seconds: 12.5,
  };
}
