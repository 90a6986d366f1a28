/**
 * One quant block decoded into its fields, for `inspect --block` (layouts: ggml-common.h
 * `block_q4_0` … `block_q6_K`, reference doc §2.2). binary-parser describes each struct
 * declaratively; fp16 scales are shown as numbers, and the packed 6-bit scales/mins of the K
 * types are unpacked (ggml-quants.c `get_scale_min_k4`, and the Q3_K scale unpacking of
 * `dequantize_row_q3_K`). Display only: the kernels decode blocks themselves.
 */
// The package's "import" export has no typings; its CommonJS build carries them.
import { Parser } from 'binary-parser/dist/binary_parser.js';
import { GgmlTypeId as T, ggmlType } from '../../kernels/ggml-types.ts';
import { UnsupportedError, FormatError } from '../errors.ts';
import { bf16ToFloat, fp16ToFloat } from './half.ts';

const fp16 = { formatter: (h: number) => fp16ToFloat(h) };
const bytes = (n: number) => ({ type: 'uint8', length: n });
const int8s = (n: number) => ({ type: 'int8', length: n });
const p = () => new Parser().endianness('little');

const LAYOUTS: ReadonlyMap<number, Parser> = new Map([
  [T.F32, p().floatle('value')],
  [T.F16, p().uint16('bits')],
  [T.BF16, p().uint16('bits')],
  [T.Q4_0, p().uint16('d', fp16).array('qs', bytes(16))],
  [T.Q4_1, p().uint16('d', fp16).uint16('m', fp16).array('qs', bytes(16))],
  [T.Q5_0, p().uint16('d', fp16).uint32('qh').array('qs', bytes(16))],
  [T.Q5_1, p().uint16('d', fp16).uint16('m', fp16).uint32('qh').array('qs', bytes(16))],
  [T.Q8_0, p().uint16('d', fp16).array('qs', int8s(32))],
  [T.Q2_K, p().array('scales', bytes(16)).array('qs', bytes(64)).uint16('d', fp16).uint16('dmin', fp16)],
  [T.Q3_K, p().array('hmask', bytes(32)).array('qs', bytes(64)).array('scales', bytes(12)).uint16('d', fp16)],
  [T.Q4_K, p().uint16('d', fp16).uint16('dmin', fp16).array('scales', bytes(12)).array('qs', bytes(128))],
  [T.Q5_K, p().uint16('d', fp16).uint16('dmin', fp16).array('scales', bytes(12)).array('qh', bytes(32)).array('qs', bytes(128))],
  [T.Q6_K, p().array('ql', bytes(128)).array('qh', bytes(64)).array('scales', int8s(16)).uint16('d', fp16)],
]);

/** Types `decodeBlock` understands. */
export const BLOCK_VIEW_TYPES: readonly number[] = [...LAYOUTS.keys()];

/** Q4_K/Q5_K: 8 (scale, min) pairs of 6 bits packed in 12 bytes (`get_scale_min_k4`). */
export function unpackScaleMinK4(s: ArrayLike<number>): { scales: number[]; mins: number[] } {
  const scales: number[] = [];
  const mins: number[] = [];
  for (let j = 0; j < 8; j++) {
    if (j < 4) {
      scales.push(s[j]! & 63);
      mins.push(s[j + 4]! & 63);
    } else {
      scales.push((s[j + 4]! & 15) | ((s[j - 4]! >> 6) << 4));
      mins.push((s[j + 4]! >> 4) | ((s[j]! >> 6) << 4));
    }
  }
  return { scales, mins };
}

/** Q3_K: 16 signed 6-bit scales packed in 12 bytes (low nibbles, then 2-bit high parts), minus 32. */
export function unpackScalesQ3K(s: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < 16; i++) {
    const low = i < 8 ? s[i]! & 15 : s[i - 8]! >> 4;
    const high = (s[8 + (i % 4)]! >> (2 * Math.floor(i / 4))) & 3;
    out.push((low | (high << 4)) - 32);
  }
  return out;
}

/** Decodes one block (one element for F32/F16/BF16) into named fields. */
export function decodeBlock(typeId: number, block: Uint8Array): Record<string, unknown> {
  const t = ggmlType(typeId);
  const layout = LAYOUTS.get(typeId);
  if (!t || !layout) throw new UnsupportedError('BLOCK_VIEW', `no block view for ggml type ${t?.name ?? typeId}`);
  if (block.length !== t.typeSize) throw new FormatError('BLOCK_SIZE', `a ${t.name} block is ${t.typeSize} bytes, got ${block.length}`);
  const f = layout.parse(Buffer.from(block.buffer, block.byteOffset, block.byteLength)) as Record<string, unknown>;
  switch (typeId) {
    case T.F16:
      return { bits: f.bits, value: fp16ToFloat(f.bits as number) };
    case T.BF16:
      return { bits: f.bits, value: bf16ToFloat(f.bits as number) };
    case T.Q2_K: {
      const sc = f.scales as number[];
      return { ...f, subScales: sc.map((b) => b & 15), subMins: sc.map((b) => b >> 4) };
    }
    case T.Q3_K:
      return { ...f, subScales: unpackScalesQ3K(f.scales as number[]) };
    case T.Q4_K:
    case T.Q5_K: {
      const { scales, mins } = unpackScaleMinK4(f.scales as number[]);
      return { ...f, subScales: scales, subMins: mins };
    }
    default:
      return f;
  }
}
