/**
 * The metadata of a quantized file as llama-quantize writes it (reference doc §7.1 step 3, §7.4):
 * the input's keys in order, minus the split keys, with `general.quantization_version` and
 * `general.file_type` removed and re-appended at the end.
 */
import { GgufValueType, type GgufKv } from '../../formats/gguf/value-types.ts';

/** Keys llama-quantize drops from the copy: the split keys, and the two it re-appends at the end. */
export const DROPPED_KEYS = new Set(['split.no', 'split.count', 'split.tensors.count', 'general.quantization_version', 'general.file_type']);
/** GGML_QNT_VERSION. */
export const QUANTIZATION_VERSION = 2;

export function quantizedFileKvs(input: readonly GgufKv[], fileTypeId: number): GgufKv[] {
  return [
    ...input.filter((kv) => !DROPPED_KEYS.has(kv.key)),
    { key: 'general.quantization_version', type: GgufValueType.UINT32, value: QUANTIZATION_VERSION },
    { key: 'general.file_type', type: GgufValueType.UINT32, value: fileTypeId },
  ];
}
