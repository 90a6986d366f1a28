/** Little-endian fp16 fields inside block byte arrays (ggml blocks store `ggml_half` LE, unaligned). */
import { fp16ToFp32, fp32ToFp16 } from '../fp16.ts';

/** Stores `GGML_FP32_TO_FP16(x)` at `off` and returns the fp16 code. */
export function writeFp16(dst: Uint8Array, off: number, x: number): number {
  const h = fp32ToFp16(x);
  dst[off] = h & 255;
  dst[off + 1] = h >>> 8;
  return h;
}

/** `GGML_FP16_TO_FP32` of the field at `off`. */
export function readFp16(src: Uint8Array, off: number): number {
  return fp16ToFp32(src[off]! | (src[off + 1]! << 8));
}
