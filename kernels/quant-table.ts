/**
 * Quantize/dequantize kernels plugged into the ggml type table by id. This is the reference path
 * (bit-identical ports of ggml-quants.c); the fast path must produce the same bytes.
 *
 * A kernel works on whole blocks: `quantize` takes nrows·nPerRow floats (nPerRow a multiple of the
 * block size), `dequantize` takes n elements (a multiple of the block size).
 */
import { ggmlType, rowSize, type GgmlType } from './ggml-types.ts';
import { convertRowBF16, convertRowF16, convertRowF32, widenRowBF16, widenRowF16, widenRowF32 } from './ref/float-rows.ts';
import { dequantizeRowQ8_0, quantizeRowQ8_0Ref } from './ref/q8_0.ts';
import { dequantizeRowQ4_0, quantizeRowQ4_0Ref } from './ref/q4_0.ts';
import { dequantizeRowQ4_1, quantizeRowQ4_1Ref } from './ref/q4_1.ts';
import { dequantizeRowQ5_0, quantizeRowQ5_0Ref } from './ref/q5_0.ts';
import { dequantizeRowQ5_1, quantizeRowQ5_1Ref } from './ref/q5_1.ts';
import { dequantizeRowQ2_K, quantizeRowQ2_KRef } from './ref/q2_k.ts';
import { dequantizeRowQ3_K, quantizeRowQ3_KRef } from './ref/q3_k.ts';
import { dequantizeRowQ4_K, quantizeRowQ4_KRef } from './ref/q4_k.ts';
import { dequantizeRowQ5_K, quantizeRowQ5_KRef } from './ref/q5_k.ts';
import { dequantizeRowQ6_K, quantizeRowQ6_KImatrix, quantizeRowQ6_KRef } from './ref/q6_k.ts';
import { dequantizeRowQ8_K } from './ref/q8_k.ts';
import { dequantizeRowIQ4_NL, dequantizeRowIQ4_XS } from './ref/iq4.ts';
import { quantizeRowIQ4_NL, quantizeRowIQ4_NLImatrix, quantizeRowIQ4_XS, quantizeRowIQ4_XSImatrix } from './ref/iq4-quantize.ts';
import {
  quantizeRowQ4_0Imatrix, quantizeRowQ4_1Imatrix, quantizeRowQ5_0Imatrix, quantizeRowQ5_1Imatrix, type ImatrixRowQuantizer,
} from './ref/imatrix-legacy.ts';
import { quantizeRowQ2_KImatrix, quantizeRowQ3_KImatrix, quantizeRowQ4_KImatrix, quantizeRowQ5_KImatrix } from './ref/imatrix-k.ts';
import { dequantizeRowMXFP4, quantizeRowMXFP4Ref } from './ref/mxfp4.ts';

export interface QuantKernel {
  readonly type: GgmlType;
  /** Whole rows, reference path. `dst` must hold nrows · rowSize(type, nPerRow) bytes. */
  quantize?(src: Float32Array, dst: Uint8Array, nrows: number, nPerRow: number): void;
  /** `n` elements (whole blocks) from the start of `src` into the start of `dst`. */
  dequantize?(src: Uint8Array, dst: Float32Array, n: number): void;
  /**
   * Whole rows with importance weights `imatrix[0..nPerRow)` (one per column), as
   * `ggml_quantize_chunk(type, src, dst, 0, nrows, nPerRow, imatrix)` runs `quantize_row_*_impl`.
   * Absent for types whose quantizer ignores the imatrix (F32/F16/BF16, Q8_0, MXFP4).
   */
  quantizeImatrix?(src: Float32Array, dst: Uint8Array, nrows: number, nPerRow: number, imatrix: Float32Array): void;
}

/** A per-block kernel: `n` counts blocks (elements for the plain float types, whose block is 1). */
type BlockQuantizer = (src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, n: number) => void;
type BlockDequantizer = (src: Uint8Array, srcOff: number, dst: Float32Array, dstOff: number, n: number) => void;

function kernel(id: number, q: BlockQuantizer | undefined, dq: BlockDequantizer | undefined, qi?: ImatrixRowQuantizer): QuantKernel {
  const type = ggmlType(id);
  if (!type) throw new Error(`ggml type ${id} is not in the type table`);
  const k: { -readonly [K in keyof QuantKernel]: QuantKernel[K] } = { type };
  if (qi) {
    k.quantizeImatrix = (src, dst, nrows, nPerRow, imatrix) => {
      const rowBytes = rowSize(type, nPerRow);
      if (src.length < nrows * nPerRow) throw new RangeError(`${type.name}: source has ${src.length} floats, need ${nrows * nPerRow}`);
      if (dst.length < nrows * rowBytes) throw new RangeError(`${type.name}: destination has ${dst.length} bytes, need ${nrows * rowBytes}`);
      if (imatrix.length < nPerRow) throw new RangeError(`${type.name}: importance matrix has ${imatrix.length} values, need ${nPerRow}`);
      for (let r = 0; r < nrows; r++) qi(src, r * nPerRow, dst, r * rowBytes, nPerRow, imatrix);
    };
  }
  if (q) {
    k.quantize = (src, dst, nrows, nPerRow) => {
      const bytes = nrows * rowSize(type, nPerRow);
      if (src.length < nrows * nPerRow) throw new RangeError(`${type.name}: source has ${src.length} floats, need ${nrows * nPerRow}`);
      if (dst.length < bytes) throw new RangeError(`${type.name}: destination has ${dst.length} bytes, need ${bytes}`);
      q(src, 0, dst, 0, (nrows * nPerRow) / type.blockSize);
    };
  }
  if (dq) {
    k.dequantize = (src, dst, n) => {
      if (n % type.blockSize !== 0) throw new RangeError(`${type.name}: ${n} elements is not a multiple of block size ${type.blockSize}`);
      const blocks = n / type.blockSize;
      if (src.length < blocks * type.typeSize) throw new RangeError(`${type.name}: source has ${src.length} bytes, need ${blocks * type.typeSize}`);
      if (dst.length < n) throw new RangeError(`${type.name}: destination has ${dst.length} floats, need ${n}`);
      dq(src, 0, dst, 0, blocks);
    };
  }
  return Object.freeze(k);
}

const KERNELS = new Map<number, QuantKernel>(
  [
    kernel(0, convertRowF32, widenRowF32),
    kernel(1, convertRowF16, widenRowF16),
    kernel(30, convertRowBF16, widenRowBF16),
    kernel(8, quantizeRowQ8_0Ref, dequantizeRowQ8_0),
    kernel(2, quantizeRowQ4_0Ref, dequantizeRowQ4_0, quantizeRowQ4_0Imatrix),
    kernel(3, quantizeRowQ4_1Ref, dequantizeRowQ4_1, quantizeRowQ4_1Imatrix),
    kernel(6, quantizeRowQ5_0Ref, dequantizeRowQ5_0, quantizeRowQ5_0Imatrix),
    kernel(7, quantizeRowQ5_1Ref, dequantizeRowQ5_1, quantizeRowQ5_1Imatrix),
    kernel(10, quantizeRowQ2_KRef, dequantizeRowQ2_K, quantizeRowQ2_KImatrix),
    kernel(11, quantizeRowQ3_KRef, dequantizeRowQ3_K, quantizeRowQ3_KImatrix),
    kernel(12, quantizeRowQ4_KRef, dequantizeRowQ4_K, quantizeRowQ4_KImatrix),
    kernel(13, quantizeRowQ5_KRef, dequantizeRowQ5_K, quantizeRowQ5_KImatrix),
    kernel(14, quantizeRowQ6_KRef, dequantizeRowQ6_K, quantizeRowQ6_KImatrix),
    // Q8_K's quantizer (quantizeRowQ8_KRef in ref/q8_k.ts) stays out of the table: it is an
    // intermediate type, and ggml_quantize_chunk aborts on it, so nothing should offer it as a target.
    kernel(15, undefined, dequantizeRowQ8_K),
    kernel(20, quantizeRowIQ4_NL, dequantizeRowIQ4_NL, quantizeRowIQ4_NLImatrix),
    kernel(23, quantizeRowIQ4_XS, dequantizeRowIQ4_XS, quantizeRowIQ4_XSImatrix),
    kernel(39, quantizeRowMXFP4Ref, dequantizeRowMXFP4),
  ].map((k) => [k.type.id, k]),
);

export function quantKernel(typeId: number): QuantKernel | undefined {
  return KERNELS.get(typeId);
}

export function canQuantize(typeId: number): boolean {
  return KERNELS.get(typeId)?.quantize !== undefined;
}

export function canDequantize(typeId: number): boolean {
  return KERNELS.get(typeId)?.dequantize !== undefined;
}

/**
 * Quantizes nrows rows of nPerRow floats into a new buffer of nrows · rowSize bytes; with an
 * importance matrix where the type's quantizer uses one (others ignore it, as ggml's do).
 */
export function quantizeRows(typeId: number, src: Float32Array, nrows: number, nPerRow: number, imatrix?: Float32Array): Uint8Array {
  const k = KERNELS.get(typeId);
  const withImatrix = imatrix && k?.quantizeImatrix;
  if (!k || (!k.quantize && !withImatrix)) throw new RangeError(`no quantizer for ggml type ${ggmlType(typeId)?.name ?? typeId}`);
  const dst = new Uint8Array(nrows * rowSize(k.type, nPerRow));
  if (imatrix && k.quantizeImatrix) k.quantizeImatrix(src, dst, nrows, nPerRow, imatrix);
  else k.quantize!(src, dst, nrows, nPerRow);
  return dst;
}

/** Dequantizes the first n elements of `src` into a new Float32Array. */
export function dequantize(typeId: number, src: Uint8Array, n: number): Float32Array {
  const k = KERNELS.get(typeId);
  if (!k?.dequantize) throw new RangeError(`no dequantizer for ggml type ${ggmlType(typeId)?.name ?? typeId}`);
  const dst = new Float32Array(n);
  k.dequantize(src, dst, n);
  return dst;
}
