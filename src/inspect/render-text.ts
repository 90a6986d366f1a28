/** Human-readable rendering of an InspectReport and a BlockView (plain text, no byte layouts). */
import type { InspectKv, InspectReport } from './report.ts';
import type { BlockView } from './block-view.ts';
import type { JsonScalar, JsonValue } from './json-value.ts';
import { formatBytes, formatCount } from '../format-units.ts';
import { untrusted } from '../../formats/errors.ts';


function scalar(v: JsonScalar | undefined, type?: string): string {
  if (typeof v === 'string') {
    const s = JSON.stringify(v);
    return s.length > 80 ? `${s.slice(0, 77)}..."` : s;
  }
  if (typeof v === 'number' && (type === 'FLOAT32' || type === 'FLOAT32[]')) return String(Number(v.toPrecision(7)));
  return String(v);
}

function kvValue(kv: InspectKv): string {
  if (kv.type !== 'ARRAY') return scalar(kv.value, kv.type);
  const shown = (kv.values ?? []).slice(0, 8).map((v) => scalar(v, `${kv.elemType}[]`));
  const more = (kv.count ?? 0) > shown.length ? ', ...' : '';
  return `[${shown.join(', ')}${more}]`;
}

/** Left-aligned columns; numeric columns right-aligned. */
function table(header: string[], rows: string[][], numeric: boolean[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => '  ' + r.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

export function renderInspectText(r: InspectReport): string {
  const out: string[] = [];
  const ft = r.fileType;
  const ftText = ft.source === 'general.file_type' ? `${ft.name ?? 'unknown'} (general.file_type = ${ft.id})` : ft.source === 'inferred' ? `${ft.name} (inferred from tensor types)` : 'unknown';
  out.push(`File:        ${r.source}`);
  out.push(`Format:      GGUF v${r.format.version}, alignment ${r.format.alignment}, tensor data at offset ${r.format.dataOffset}`);
  out.push(`File size:   ${formatBytes(r.fileSize)} (${r.fileSize} bytes)`);
  out.push(`Parameters:  ${formatCount(r.parameterCount)} (${r.parameterCount})`);
  out.push(`File type:   ${ftText}`);
  out.push('', `Metadata (${r.metadata.length} keys)`);
  out.push(...table(
    ['key', 'type', 'value'],
    r.metadata.map((kv) => [untrusted(kv.key), kv.type === 'ARRAY' ? `${kv.elemType}[${kv.count}]` : kv.type, kvValue(kv)]),
    [false, false, false],
  ));
  out.push('', `Tensors (${r.tensors.length})`);
  out.push(...table(
    ['name', 'type', 'shape', 'offset', 'bytes', 'bpw'],
    r.tensors.map((t) => [untrusted(t.name), t.type, `[${t.shape.join(', ')}]`, String(t.offset), String(t.bytes), t.bitsPerWeight.toFixed(2)]),
    [false, false, false, true, true, true],
  ));
  out.push('', 'By type');
  out.push(...table(
    ['type', 'tensors', 'params', 'bytes', 'share'],
    r.summary.map((g) => [g.type, String(g.count), String(g.params), formatBytes(g.bytes), `${(g.share * 100).toFixed(1)}%`]),
    [false, true, true, true, true],
  ));
  return out.join('\n') + '\n';
}

function fieldText(v: JsonValue): string {
  return Array.isArray(v) ? `[${v.join(', ')}]` : String(v);
}

export function renderBlockText(b: BlockView): string {
  const out = [
    `Tensor:  ${untrusted(b.tensor)} (${b.type})`,
    `Block:   ${b.index} of ${b.blockCount}, ${b.bytes} bytes at file offset ${b.fileOffset}`,
  ];
  const w = Math.max(...Object.keys(b.fields).map((k) => k.length));
  for (const [k, v] of Object.entries(b.fields)) out.push(`  ${k.padEnd(w)}  ${fieldText(v)}`);
  return out.join('\n') + '\n';
}
