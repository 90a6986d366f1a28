/**
 * The plain float types as "quantizers": F32 copy, F16 (`ggml_fp32_to_fp16_row`) and BF16
 * (`ggml_fp32_to_bf16_row_ref`), and their widening back to f32 (`ggml_fp16_to_fp32_row`,
 * `ggml_bf16_to_fp32_row`). They work on bit patterns so NaN payloads survive as ggml's do.
 */
import { fp16ToFp32BitsTable, fp32BitsToBf16, fp32BitsToFp16 } from '../fp16.ts';

const bitsOf = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

export function convertRowF32(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, n: number): void {
  dst.set(new Uint8Array(src.buffer, src.byteOffset + srcOff * 4, n * 4), dstOff);
}

export function convertRowF16(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, n: number): void {
  const w = bitsOf(src);
  for (let i = 0; i < n; i++) {
    const h = fp32BitsToFp16(w[srcOff + i]!);
    dst[dstOff + 2 * i] = h & 255;
    dst[dstOff + 2 * i + 1] = h >>> 8;
  }
}

export function convertRowBF16(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, n: number): void {
  const w = bitsOf(src);
  for (let i = 0; i < n; i++) {
    const h = fp32BitsToBf16(w[srcOff + i]!);
    dst[dstOff + 2 * i] = h & 255;
    dst[dstOff + 2 * i + 1] = h >>> 8;
  }
}

export function widenRowF32(src: Uint8Array, srcOff: number, dst: Float32Array, dstOff: number, n: number): void {
  new Uint8Array(dst.buffer, dst.byteOffset + dstOff * 4, n * 4).set(src.subarray(srcOff, srcOff + n * 4));
}

export function widenRowF16(src: Uint8Array, srcOff: number, dst: Float32Array, dstOff: number, n: number): void {
  const y = bitsOf(dst);
  const table = fp16ToFp32BitsTable();
  for (let i = 0; i < n; i++) y[dstOff + i] = table[src[srcOff + 2 * i]! | (src[srcOff + 2 * i + 1]! << 8)]!;
}

export function widenRowBF16(src: Uint8Array, srcOff: number, dst: Float32Array, dstOff: number, n: number): void {
  const y = bitsOf(dst);
  for (let i = 0; i < n; i++) y[dstOff + i] = ((src[srcOff + 2 * i]! | (src[srcOff + 2 * i + 1]! << 8)) << 16) >>> 0;
}
