/** Human rendering of an AWQ/GPTQ folder report (`inspectQuantizedFolder`). */
import type { QuantizedFolderReport } from '../../../formats/awq-gptq/inspect.ts';

const shape = (s: number[]) => `[${s.join(', ')}]`;

function layoutName(r: Pick<QuantizedFolderReport, 'method' | 'layout'>): string {
  if (r.layout === 'gemv') return 'AWQ GEMV (qweight [out, in/8], natural order; read only)';
  if (r.method === 'awq') return 'AWQ GEMM (qweight [in, out/8], AutoAWQ interleave)';
  return r.layout === 'gptq_v2' ? 'GPTQ v2 (zeros stored as-is)' : 'GPTQ v1 (zeros stored as z-1)';
}

export function renderQuantizedFolderReport(r: QuantizedFolderReport): string {
  const lines: string[] = [];
  lines.push(`${r.dir}: ${r.method.toUpperCase()} ${r.bits}-bit, group size ${r.groupSize}, ${r.sym ? 'symmetric' : 'asymmetric'}${r.descAct ? ', act-order' : ''}`);
  lines.push(`layout: ${layoutName(r)}`);
  lines.push(`quantization_config (${r.configFile}):`);
  for (const [k, v] of Object.entries(r.quantizationConfig)) lines.push(`  ${k}: ${JSON.stringify(v)}`);
  lines.push(`files: ${r.files.length}`);
  lines.push(`packed layers: ${r.layers.length}`);
  for (const l of r.layers) {
    lines.push(`  ${l.module}  in ${l.inFeatures} out ${l.outFeatures}  ${l.bits}-bit g${l.groupSize} (${l.groups} groups)${l.actOrder ? '  act-order g_idx' : ''}${l.hasBias ? '  +bias' : ''}  ${l.tensors.map((t) => `${t.name.slice(l.module.length + 1)} ${t.dtype}${shape(t.shape)}`).join(' ')}`);
  }
  lines.push(`kept unquantized: ${r.kept.length}`);
  for (const t of r.kept) lines.push(`  ${t.name}  ${t.dtype}${shape(t.shape)}`);
  const g = r.group;
  const cols = g.columns.length > 12 ? `${g.columns.slice(0, 12).join(', ')}, … (${g.columns.length} columns)` : g.columns.join(', ');
  lines.push(`group ${g.group} of ${g.module} (input columns ${cols}):`);
  lines.push('  channel  zero  scale');
  for (const c of g.channels) lines.push(`  ${String(c.channel).padStart(7)}  ${String(c.zero).padStart(4)}  ${c.scale.toPrecision(6)}`);
  if (g.channels.length < g.totalChannels) lines.push(`  … ${g.totalChannels - g.channels.length} more channels`);
  return lines.join('\n') + '\n';
}
