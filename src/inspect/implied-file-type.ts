/**
 * The llama file type a GGUF implies: `general.file_type` when present (what llama.cpp itself
 * reports), else the file type whose default tensor type holds most of the weights. Inference
 * cannot tell _S/_M/_L mixes apart, so it names the common one (the _M, whose short alias is
 * what users type) and says it was inferred.
 */
import { FILE_TYPES, fileType } from '../../kernels/file-types.ts';
import { ggmlType } from '../../kernels/ggml-types.ts';

export interface ImpliedFileType {
  id: number | null;
  name: string | null;
  source: 'general.file_type' | 'inferred' | 'none';
}

export interface TensorForInference {
  type: number;
  ne: readonly number[];
}

const elements = (ne: readonly number[]) => ne.reduce((a, b) => a * b, 1);

export function impliedFileType(fileTypeKv: number | undefined, tensors: readonly TensorForInference[]): ImpliedFileType {
  if (fileTypeKv !== undefined) return { id: fileTypeKv, name: fileType(fileTypeKv)?.name ?? null, source: 'general.file_type' };
  const byType = new Map<number, number>();
  const anyQuantized = tensors.some((t) => ggmlType(t.type)?.quantized);
  for (const t of tensors) {
    if (anyQuantized && !ggmlType(t.type)?.quantized) continue;
    byType.set(t.type, (byType.get(t.type) ?? 0) + elements(t.ne));
  }
  const dominant = [...byType.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  if (dominant === undefined) return { id: null, name: null, source: 'none' };
  const candidates = FILE_TYPES.filter((f) => f.defaultType === dominant);
  const pick = candidates.find((f) => f.aliases?.length) ?? candidates[0];
  return pick ? { id: pick.id, name: pick.name, source: 'inferred' } : { id: null, name: null, source: 'none' };
}
