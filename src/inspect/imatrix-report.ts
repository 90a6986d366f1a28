/**
 * `inspect` of an importance-matrix file (GGUF `general.type = imatrix`, or legacy `.dat`): its
 * metadata, every entry (columns, experts, token counts) and, per entry, the most and least
 * important input columns by the value llama-quantize hands the quantizers (mean x² per token,
 * `quantWeights`), like llama-imatrix --show-statistics' Σ(Act²), min and max; and those
 * statistics themselves (imatrix-stats.ts): all of them in --json, the per-layer table in text.
 */
import { quantWeights, entryColumns, type Imatrix } from '../../formats/imatrix/imatrix.ts';
import { untrusted } from '../../formats/errors.ts';
import { imatrixStatistics, renderLayerTable, type ImatrixStatistics } from './imatrix-stats.ts';

export interface ImatrixColumn { column: number; expert?: number; value: number }

export interface ImatrixEntryReport {
  name: string;
  columns: number;
  experts: number;
  counts: number[];
  /** Σ over columns of mean x² (llama-imatrix's Σ(Act²) per token). */
  total: number;
  mean: number;
  top: ImatrixColumn[];
  bottom: ImatrixColumn[];
}

export interface ImatrixReport {
  file: string;
  format: 'gguf' | 'dat';
  datasets: string[];
  chunkCount: number;
  /** 0 for a .dat file (the legacy form does not record it). */
  chunkSize: number;
  entries: ImatrixEntryReport[];
  /** llama-imatrix --show-statistics' figures (per tensor and per layer). */
  statistics: ImatrixStatistics;
}

export function buildImatrixReport(file: string, m: Imatrix, perEntry = 5): ImatrixReport {
  const entries: ImatrixEntryReport[] = [];
  for (const [name, e] of m.entries) {
    const w = quantWeights(m, e);
    const cols = entryColumns(e);
    const experts = e.counts.length;
    const order = Array.from(w.keys()).sort((a, b) => w[b]! - w[a]! || a - b);
    const col = (i: number): ImatrixColumn => ({ column: i % cols, ...(experts > 1 ? { expert: Math.floor(i / cols) } : {}), value: w[i]! });
    let total = 0;
    for (const v of w) total += v;
    entries.push({
      name, columns: cols, experts, counts: e.counts, total: total / experts, mean: total / w.length,
      top: order.slice(0, perEntry).map(col), bottom: order.slice(-perEntry).reverse().map(col),
    });
  }
  return { file, format: m.legacy ? 'dat' : 'gguf', datasets: m.datasets, chunkCount: m.chunkCount, chunkSize: m.chunkSize, entries, statistics: imatrixStatistics(m) };
}

const g = (v: number) => (v === 0 ? '0' : Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3 ? v.toExponential(3) : v.toPrecision(5));
const cell = (c: ImatrixColumn) => `${c.expert !== undefined ? `e${c.expert}:` : ''}${c.column}=${g(c.value)}`;

export function renderImatrixText(r: ImatrixReport): string {
  const lines = [
    `File:        ${untrusted(r.file)}`,
    `Format:      importance matrix, ${r.format === 'gguf' ? 'llama.cpp GGUF (general.type = imatrix)' : 'legacy .dat'}`,
    `Datasets:    ${r.datasets.length ? r.datasets.map((d) => untrusted(d)).join(', ') : '(none recorded)'}`,
    `Chunks:      ${r.chunkCount}${r.chunkSize ? ` of ${r.chunkSize} tokens` : ''}`,
    `Entries:     ${r.entries.length}`,
    '',
  ];
  const w = Math.max(6, ...r.entries.map((e) => e.name.length));
  // A .dat file records ncall (chunks) per entry, not tokens.
  lines.push(`  ${'tensor'.padEnd(w)}  ${'cols'.padStart(6)} ${'exp'.padStart(3)} ${(r.format === 'dat' ? 'ncall' : 'tokens').padStart(8)} ${'Σ mean x²'.padStart(11)}  most important columns / least important columns`);
  for (const e of r.entries) {
    const tokens = e.experts > 1 ? `${Math.min(...e.counts)}…${Math.max(...e.counts)}` : String(e.counts[0]);
    lines.push(`  ${untrusted(e.name).padEnd(w)}  ${String(e.columns).padStart(6)} ${String(e.experts).padStart(3)} ${tokens.padStart(8)} ${g(e.total).padStart(11)}  ${e.top.slice(0, 3).map(cell).join(' ')} / ${e.bottom.slice(0, 3).map(cell).join(' ')}`);
  }
  lines.push('', ...renderLayerTable(r.statistics), '', `Per-tensor statistics: gguf-forge imatrix --in-file ${untrusted(r.file)} --show-statistics`);
  return lines.join('\n') + '\n';
}
