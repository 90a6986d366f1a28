/**
 * `inspect --block TENSOR[:INDEX]`: reads exactly one block of one tensor (by offset, never the
 * tensor) and decodes it into fields. For F32/F16/BF16 a "block" is one element.
 */
import type { ByteSource } from '../../formats/io/byte-source.ts';
import type { GgufFile } from '../../formats/gguf/reader.ts';
import { decodeBlock } from '../../formats/gguf/block-layouts.ts';
import { UsageError } from '../../formats/errors.ts';
import { ggmlType } from '../../kernels/ggml-types.ts';
import { jsonArray, jsonScalar, type JsonValue } from './json-value.ts';

export interface BlockView {
  tensor: string;
  type: string;
  index: number;
  blockCount: number;
  /** Absolute position of the block in the file. */
  fileOffset: number;
  bytes: number;
  fields: Record<string, JsonValue>;
}

/** Splits `name:INDEX` at the last colon (tensor names may not contain one, but be lenient). */
export function parseBlockSpec(spec: string): { tensor: string; index: number } {
  const m = /^(.*?)(?::(\d+))?$/.exec(spec)!;
  const tensor = m[1]!;
  if (!tensor) throw new UsageError('BAD_BLOCK_SPEC', `--block expects TENSOR[:INDEX], got '${spec}'`);
  return { tensor, index: m[2] === undefined ? 0 : Number(m[2]) };
}

export async function readBlockView(src: ByteSource, file: GgufFile<unknown>, spec: string): Promise<BlockView> {
  const { tensor, index } = parseBlockSpec(spec);
  const t = file.tensors.find((x) => x.name === tensor);
  if (!t) throw new UsageError('NO_SUCH_TENSOR', `${file.source}: no tensor named '${tensor}'`, { file: file.source, tensor });
  const gt = ggmlType(t.type)!;
  const blockCount = t.nbytes / gt.typeSize;
  if (!Number.isSafeInteger(index) || index >= blockCount) {
    throw new UsageError('BAD_BLOCK_INDEX', `${file.source}: tensor '${tensor}' has ${blockCount} blocks; index ${index} is out of range`, { file: file.source, tensor });
  }
  const fileOffset = file.dataOffset + t.offset + index * gt.typeSize;
  const raw = decodeBlock(t.type, await src.read(fileOffset, gt.typeSize));
  const fields: Record<string, JsonValue> = {};
  for (const [k, v] of Object.entries(raw)) fields[k] = Array.isArray(v) ? jsonArray(v) : jsonScalar(v);
  return { tensor, type: gt.name, index, blockCount, fileOffset, bytes: gt.typeSize, fields };
}
