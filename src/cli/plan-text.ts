/**
 * The plan as text: one table for `convert --dry-run` and `quantize --dry-run` alike, from the
 * plan's own summary (src/pipeline/plan.ts), so the CLI shows exactly what would be written.
 */
import { formatBytes } from '../format-units.ts';
import type { ConvertSummary, QuantizeSummary } from '../pipeline/events.ts';

export function formatPlan(s: ConvertSummary | QuantizeSummary): string {
  const w = Math.max(...s.plan.map((r) => r.name.length), 4);
  const lines = [`${'tensor'.padEnd(w)}  ${'shape'.padEnd(18)} ${'source'.padEnd(6)} → ${'target'.padEnd(6)} ${'size'.padStart(11)}  rule`];
  for (const r of s.plan) {
    lines.push(`${r.name.padEnd(w)}  ${`[${r.shape.join(', ')}]`.padEnd(18)} ${r.sourceType.padEnd(6)} → ${r.targetType.padEnd(6)} ${formatBytes(r.bytes).padStart(11)}  ${r.rule}`);
    if (r.fallback) lines.push(`${''.padEnd(w)}  fallback ${r.fallback.from} → ${r.fallback.to}: ${r.fallback.reason}`);
  }
  const input = s.kind === 'quantize' ? `, input ${formatBytes(s.inputBytes)}` : '';
  lines.push(`dry run: ${s.tensors} tensors, ${s.fallbacks} fallback(s); ${s.output} would be ${s.outputBytes} bytes (${formatBytes(s.outputBytes)})${input}`);
  return lines.join('\n');
}
