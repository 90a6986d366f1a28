/**
 * The round-trip validation report: per-tensor metrics aggregated per layer and per tensor kind,
 * the worst tensors, and anomalies. Pure: it takes the metrics the write stage measured and
 * returns a JSON-serialisable report, shared by the GGUF and AWQ/GPTQ paths.
 */
import type { TensorMetrics } from '../pipeline/events.ts';
import { tensorPlace } from './tensor-kind.ts';

export interface TensorResult {
  name: string;
  /** Target type name (`Q5_K`, `awq-int4-g128`, …): errors are only comparable within a type. */
  type: string;
  metrics: TensorMetrics;
}

export interface GroupStats {
  tensors: number;
  meanRelFrobenius: number;
  maxRelFrobenius: number;
  meanSnrDb: number;
  minCosine: number;
}

export interface Anomaly {
  code: 'non-finite' | 'outlier-error' | 'early-layer-error';
  tensor?: string;
  layer?: number;
  message: string;
}

export interface ValidationReport {
  tensors: (TensorResult & { layer: number | null; kind: string })[];
  byLayer: Record<string, GroupStats>;
  byKind: Record<string, GroupStats>;
  worst: { name: string; type: string; relFrobenius: number; snrDb: number }[];
  anomalies: Anomaly[];
}

/** A tensor is an outlier when its error exceeds this multiple of the median for its type and kind. */
export const OUTLIER_FACTOR = 4;
/** Layers 0 and 1 are suspicious when their error exceeds this multiple of the kind's median over later layers. */
export const EARLY_LAYER_FACTOR = 2.5;
const WORST_COUNT = 5;

export function buildReport(results: TensorResult[]): ValidationReport {
  const tensors = results.map((r) => ({ ...r, ...tensorPlace(r.name) }));
  const byLayer = groupStats(tensors, (t) => (t.layer === null ? null : String(t.layer)));
  const byKind = groupStats(tensors, (t) => t.kind);
  const worst = [...tensors]
    .sort((a, b) => b.metrics.relFrobenius - a.metrics.relFrobenius)
    .slice(0, WORST_COUNT)
    .map((t) => ({ name: t.name, type: t.type, relFrobenius: t.metrics.relFrobenius, snrDb: t.metrics.snrDb }));
  return { tensors, byLayer, byKind, worst, anomalies: findAnomalies(tensors) };
}

function groupStats<T extends TensorResult>(items: T[], key: (t: T) => string | null): Record<string, GroupStats> {
  const groups = new Map<string, T[]>();
  for (const t of items) {
    const k = key(t);
    if (k === null) continue;
    const g = groups.get(k) ?? [];
    g.push(t);
    groups.set(k, g);
  }
  const out: Record<string, GroupStats> = {};
  for (const [k, g] of groups) {
    out[k] = {
      tensors: g.length,
      meanRelFrobenius: mean(g.map((t) => t.metrics.relFrobenius)),
      maxRelFrobenius: Math.max(...g.map((t) => t.metrics.relFrobenius)),
      meanSnrDb: mean(g.map((t) => t.metrics.snrDb).filter(Number.isFinite)),
      minCosine: Math.min(...g.map((t) => t.metrics.cosine)),
    };
  }
  return out;
}

function findAnomalies(tensors: (TensorResult & { layer: number | null; kind: string })[]): Anomaly[] {
  const anomalies: Anomaly[] = [];
  for (const t of tensors) {
    if (t.metrics.nonFinite > 0) {
      anomalies.push({ code: 'non-finite', tensor: t.name, message: `${t.name}: ${t.metrics.nonFinite} non-finite values after the round trip` });
    }
  }
  // Errors are comparable only within one target type and tensor kind (q5_K_M mixes Q5_K and Q6_K).
  const peers = new Map<string, typeof tensors>();
  for (const t of tensors) {
    const k = `${t.type}|${t.kind}`;
    peers.set(k, [...(peers.get(k) ?? []), t]);
  }
  for (const group of peers.values()) {
    if (group.length < 3) continue;
    const med = median(group.map((t) => t.metrics.relFrobenius));
    for (const t of group) {
      if (med > 0 && t.metrics.relFrobenius > OUTLIER_FACTOR * med) {
        anomalies.push({
          code: 'outlier-error', tensor: t.name,
          message: `${t.name}: relative error ${fmt(t.metrics.relFrobenius)} is ${fmt(t.metrics.relFrobenius / med)}× the median ${fmt(med)} of ${t.kind} tensors in ${t.type}`,
        });
      }
    }
    const later = group.filter((t) => t.layer !== null && t.layer >= 2);
    if (later.length < 2) continue;
    const laterMed = median(later.map((t) => t.metrics.relFrobenius));
    for (const t of group) {
      if (t.layer !== null && t.layer < 2 && laterMed > 0 && t.metrics.relFrobenius > EARLY_LAYER_FACTOR * laterMed) {
        anomalies.push({
          code: 'early-layer-error', tensor: t.name, layer: t.layer,
          message: `${t.name}: early-layer error ${fmt(t.metrics.relFrobenius)} is ${fmt(t.metrics.relFrobenius / laterMed)}× later layers' median (a broken source or a wrong permutation?)`,
        });
      }
    }
  }
  return anomalies;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
const fmt = (x: number) => (Math.abs(x) >= 0.01 ? x.toFixed(3) : x.toExponential(2));
