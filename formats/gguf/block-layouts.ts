/**
 * One quant block decoded into its fields, for `inspect --block`. The fields, their offsets and
 * widths come from the block layout table (kernels/block-layouts.ts, ggml-common.h's `block_*`
 * structs); fp16 scales are shown as numbers, and the packed 6-bit scales/mins of the K types are
 * unpacked with the kernels' own helpers (`get_scale_min_k4`, and the Q3_K scale unpacking of
 * `dequantize_row_q3_K`). Display only: the kernels decode blocks themselves.
 */
import { GgmlTypeId as T, ggmlType } from '../../kernels/ggml-types.ts';
import { kindBytes, type BlockField } from '../../kernels/block-layouts.ts';
import { bf16ToFp32, fp16ToFp32 } from '../../kernels/fp16.ts';
import { minK4, scaleK4 } from '../../kernels/ref/k-helpers.ts';
import { subScale } from '../../kernels/ref/q3_k.ts';
import { UnsupportedError, FormatError } from '../errors.ts';

/** Types `decodeBlock` shows (the ones test/gguf-block-layouts.test.ts rebuilds against llama.cpp). */
export const BLOCK_VIEW_TYPES: readonly number[] = [
  T.F32, T.F16, T.BF16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0, T.Q2_K, T.Q3_K, T.Q4_K, T.Q5_K, T.Q6_K,
];

/** One element of a field, as a number (bigint for 64-bit integers). */
function element(dv: DataView, o: number, kind: BlockField['kind']): number | bigint {
  switch (kind) {
    case 'f16': return fp16ToFp32(dv.getUint16(o, true));
    case 'bf16': return bf16ToFp32(dv.getUint16(o, true));
    case 'f32': return dv.getFloat32(o, true);
    case 'f64': return dv.getFloat64(o, true);
    case 'u8': return dv.getUint8(o);
    case 'i8': return dv.getInt8(o);
    case 'u16': return dv.getUint16(o, true);
    case 'i16': return dv.getInt16(o, true);
    case 'u32': return dv.getUint32(o, true);
    case 'i32': return dv.getInt32(o, true);
    case 'i64': return dv.getBigInt64(o, true);
  }
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Decodes one block (one element for F32/F16/BF16) into named fields. */
export function decodeBlock(typeId: number, block: Uint8Array): Record<string, unknown> {
  const t = ggmlType(typeId);
  if (!t || !BLOCK_VIEW_TYPES.includes(typeId)) throw new UnsupportedError('BLOCK_VIEW', `no block view for ggml type ${t?.name ?? typeId}`);
  if (block.length !== t.typeSize) throw new FormatError('BLOCK_SIZE', `a ${t.name} block is ${t.typeSize} bytes, got ${block.length}`);
  const dv = new DataView(block.buffer, block.byteOffset, block.byteLength);
  const f: Record<string, unknown> = {};
  for (const field of t.layout.fields) {
    const each = kindBytes(field.kind);
    const values = range(field.width / each).map((i) => element(dv, field.offset + i * each, field.kind));
    f[field.name] = values.length === 1 ? values[0] : values;
  }
  const scalesAt = t.layout.fields.find((x) => x.name === 'scales')?.offset ?? 0;
  switch (typeId) {
    case T.F16:
    case T.BF16:
      return { bits: dv.getUint16(0, true), value: f.value };
    case T.Q2_K: {
      const sc = f.scales as number[];
      return { ...f, subScales: sc.map((b) => b & 15), subMins: sc.map((b) => b >> 4) };
    }
    case T.Q3_K:
      return { ...f, subScales: range(16).map((j) => subScale(block, scalesAt, j)) };
    case T.Q4_K:
    case T.Q5_K:
      return { ...f, subScales: range(8).map((j) => scaleK4(j, block, scalesAt)), subMins: range(8).map((j) => minK4(j, block, scalesAt)) };
    default:
      return f;
  }
}
