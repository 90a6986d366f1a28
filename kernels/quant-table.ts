/**
 * Quantize/dequantize kernels plugged into the ggml type table by id. This is the reference path
 * (bit-identical ports of ggml-quants.c); the fast path must produce the same bytes.
 *
 * A kernel works on whole blocks: `quantize` takes nrows·nPerRow floats (nPerRow a multiple of the
 * block size), `dequantize` takes n elements (a multiple of the block size).
 */
import { ggmlType, rowSize, type GgmlType } from './ggml-types.ts';
import { QUANT_SUPPORT } from './quant-support.ts';
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
import { dequantizeRowIQ3_S, dequantizeRowIQ3_XXS } from './ref/iq3.ts';
import { quantizeRowIQ3_S, quantizeRowIQ3_SImatrix, quantizeRowIQ3_XXS, quantizeRowIQ3_XXSImatrix } from './ref/iq3-quantize.ts';
import { dequantizeRowIQ1_M, dequantizeRowIQ1_S } from './ref/iq1.ts';
import { quantizeRowIQ1_M, quantizeRowIQ1_MImatrix, quantizeRowIQ1_SImatrix } from './ref/iq1-quantize.ts';
import { dequantizeRowIQ2_S, dequantizeRowIQ2_XS, dequantizeRowIQ2_XXS } from './ref/iq2.ts';
import { quantizeRowIQ2_S, quantizeRowIQ2_SImatrix, quantizeRowIQ2_XSImatrix, quantizeRowIQ2_XXSImatrix } from './ref/iq2-quantize.ts';

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
  /**
   * Set for the types of `ggml_quantize_requires_imatrix` (IQ2_XXS, IQ2_XS, IQ1_S), whose
   * `ggml_quantize_chunk` asserts an imatrix: they have `quantizeImatrix` and no `quantize`.
   */
  readonly requiresImatrix?: true;
}

/** A per-block kernel: `n` counts blocks (elements for the plain float types, whose block is 1). */
type BlockQuantizer = (src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, n: number) => void;
type BlockDequantizer = (src: Uint8Array, srcOff: number, dst: Float32Array, dstOff: number, n: number) => void;

function kernel(id: number, q: BlockQuantizer | undefined, dq: BlockDequantizer | undefined, qi?: ImatrixRowQuantizer, requiresImatrix?: true): QuantKernel {
  const type = ggmlType(id);
  if (!type) throw new Error(`ggml type ${id} is not in the type table`);
  if (requiresImatrix && (q || !qi)) throw new Error(`${type.name}: a type that requires an imatrix has only an imatrix quantizer`);
  const k: { -readonly [K in keyof QuantKernel]: QuantKernel[K] } = { type };
  if (requiresImatrix) k.requiresImatrix = true;
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
    kernel(18, quantizeRowIQ3_XXS, dequantizeRowIQ3_XXS, quantizeRowIQ3_XXSImatrix),
    kernel(21, quantizeRowIQ3_S, dequantizeRowIQ3_S, quantizeRowIQ3_SImatrix),
    kernel(19, undefined, dequantizeRowIQ1_S, quantizeRowIQ1_SImatrix, true),
    // IQ1_M takes a NULL imatrix in ggml (x² weights); llama-quantize still asks for one.
    kernel(29, quantizeRowIQ1_M, dequantizeRowIQ1_M, quantizeRowIQ1_MImatrix),
    kernel(16, undefined, dequantizeRowIQ2_XXS, quantizeRowIQ2_XXSImatrix, true),
    kernel(17, undefined, dequantizeRowIQ2_XS, quantizeRowIQ2_XSImatrix, true),
    // IQ2_S takes a NULL imatrix in ggml (its own fallback weights); llama-quantize still asks for one.
    kernel(22, quantizeRowIQ2_S, dequantizeRowIQ2_S, quantizeRowIQ2_SImatrix),
  ].map((k) => [k.type.id, k]),
);

// The support table (quant-support.ts) answers capability questions without loading this module;
// it must describe these rows exactly, so a row added here without it fails at load (and in every test).
for (const id of new Set([...KERNELS.keys(), ...QUANT_SUPPORT.keys()])) {
  const k = KERNELS.get(id), s = QUANT_SUPPORT.get(id);
  const has = { quantize: !!k?.quantize, imatrix: !!k?.quantizeImatrix, dequantize: !!k?.dequantize, requiresImatrix: !!k?.requiresImatrix };
  if (!s || (Object.keys(has) as (keyof typeof has)[]).some((op) => has[op] !== s[op])) {
    throw new Error(`kernels/quant-support.ts disagrees with the kernel table for ${ggmlType(id)?.name ?? id}: ${JSON.stringify(has)} vs ${JSON.stringify(s)}`);
  }
}

export { canDequantize, canQuantize, requiresImatrix } from './quant-support.ts';

export function quantKernel(typeId: number): QuantKernel | undefined {
  return KERNELS.get(typeId);
}

/**
 * Quantizes nrows rows of nPerRow floats into a new buffer of nrows · rowSize bytes; with an
 * importance matrix where the type's quantizer uses one (others ignore it, as ggml's do).
 */
export function quantizeRows(typeId: number, src: Float32Array, nrows: number, nPerRow: number, imatrix?: Float32Array): Uint8Array {
  const k = KERNELS.get(typeId);
  if (!k || (!k.quantize && !k.quantizeImatrix)) throw new RangeError(`no quantizer for ggml type ${ggmlType(typeId)?.name ?? typeId}`);
  if (!imatrix && k.requiresImatrix) {
    throw new RangeError(`${k.type.name} requires an importance matrix (llama.cpp: "this quantization requires an imatrix!")`);
  }
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
