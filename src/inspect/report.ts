/**
 * The inspect report: plain JSON data about a GGUF file, built once and shared by `--json`, the
 * human renderer and the TUI inspector. Field names are part of the CLI's JSON contract; add
 * fields, do not rename them. UINT64/INT64 values follow json-value.ts (number or string).
 */
import type { GgufFile, GgufLazyKv } from '../../formats/gguf/reader.ts';
import { GgufStringArray } from '../../formats/gguf/string-array.ts';
import { GgufValueType } from '../../formats/gguf/value-types.ts';
import { bitsPerWeight, ggmlType } from '../../kernels/ggml-types.ts';
import { impliedFileType, type ImpliedFileType } from './implied-file-type.ts';
import { jsonArray, jsonScalar, type JsonScalar } from './json-value.ts';

/** Array values shown by default; the whole array with `fullArrays`. */
export const ARRAY_HEAD = 8;

export interface InspectKv {
  key: string;
  /** GGUF value type name: `UINT32`, `STRING`, `ARRAY`, ... */
  type: string;
  /** Scalars only. */
  value?: JsonScalar;
  /** Arrays only. */
  elemType?: string;
  count?: number;
  /** First ARRAY_HEAD elements, or all with `fullArrays`. */
  values?: JsonScalar[];
}

export interface InspectTensor {
  name: string;
  type: string;
  typeId: number;
  /** GGUF order: shape[0] is the row length. */
  shape: number[];
  /** Relative to the data section, as stored in the file. */
  offset: number;
  /** Absolute position in the file. */
  fileOffset: number;
  bytes: number;
  params: number;
  bitsPerWeight: number;
}

export interface InspectTypeSummary {
  type: string;
  count: number;
  params: number;
  bytes: number;
  /** Fraction of all tensor bytes, 0..1. */
  share: number;
}

export interface InspectReport {
  kind: 'gguf';
  source: string;
  format: { name: 'GGUF'; version: number; alignment: number; dataOffset: number };
  fileSize: number;
  metadata: InspectKv[];
  tensors: InspectTensor[];
  summary: InspectTypeSummary[];
  parameterCount: number;
  tensorBytes: number;
  fileType: ImpliedFileType;
}

function kvEntry(kv: GgufLazyKv, fullArrays: boolean): InspectKv {
  if (kv.type !== GgufValueType.ARRAY) return { key: kv.key, type: GgufValueType[kv.type], value: jsonScalar(kv.value) };
  const limit = fullArrays ? Infinity : ARRAY_HEAD;
  // A lazily read vocabulary decodes only the strings shown.
  const values = kv.value instanceof GgufStringArray ? kv.value.slice(0, limit) : kv.value;
  return {
    key: kv.key,
    type: 'ARRAY',
    elemType: GgufValueType[kv.elemType],
    count: kv.value.length,
    values: jsonArray(values, limit),
  };
}

/** Takes a header read eagerly or with `lazyStrings` (readGguf). */
export function buildInspectReport(file: GgufFile | GgufFile<GgufLazyKv>, opts: { fullArrays?: boolean } = {}): InspectReport {
  const tensors: InspectTensor[] = file.tensors.map((t) => {
    const params = t.ne.reduce((a, b) => a * b, 1);
    const gt = ggmlType(t.type)!;
    return {
      name: t.name, type: gt.name, typeId: t.type, shape: [...t.ne],
      offset: t.offset, fileOffset: file.dataOffset + t.offset, bytes: t.nbytes, params, bitsPerWeight: bitsPerWeight(gt),
    };
  });
  const tensorBytes = tensors.reduce((a, t) => a + t.bytes, 0);
  const groups = new Map<string, InspectTypeSummary>();
  for (const t of tensors) {
    const g = groups.get(t.type) ?? { type: t.type, count: 0, params: 0, bytes: 0, share: 0 };
    g.count++;
    g.params += t.params;
    g.bytes += t.bytes;
    groups.set(t.type, g);
  }
  const summary = [...groups.values()].sort((a, b) => b.bytes - a.bytes || a.type.localeCompare(b.type));
  for (const g of summary) g.share = tensorBytes ? g.bytes / tensorBytes : 0;
  const ftKv = file.kvs.find((kv) => kv.key === 'general.file_type');
  const ftValue = ftKv && ftKv.type !== GgufValueType.ARRAY && typeof ftKv.value !== 'string' ? Number(ftKv.value) : undefined;
  return {
    kind: 'gguf',
    source: file.source,
    format: { name: 'GGUF', version: file.version, alignment: file.alignment, dataOffset: file.dataOffset },
    fileSize: file.fileSize,
    metadata: file.kvs.map((kv) => kvEntry(kv, opts.fullArrays ?? false)),
    tensors,
    summary,
    parameterCount: tensors.reduce((a, t) => a + t.params, 0),
    tensorBytes,
    fileType: impliedFileType(ftValue, file.tensors),
  };
}
