/**
 * MXFP4 (17 B / 32): e:E8M0 exponent | qs[16], element j in the low nibble of qs[j], j+16 in the
 * high; value = kvalues_mxfp4[q] · 2^(e−128) (the table holds doubled E2M1 values, hence the half
 * scale). Ports `quantize_row_mxfp4_ref` and `dequantize_row_mxfp4`.
 */
import { F, floatToUint8 } from './rounding.ts';
import { layoutOf } from '../block-layouts.ts';

const MXFP4 = layoutOf('MXFP4');
export const KVALUES_MXFP4: Int8Array = Int8Array.from([0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12]);

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** `GGML_E8M0_TO_FP32_HALF(e)` = 2^(e−128), with the two subnormal cases. */
export function e8m0ToFp32Half(e: number): number {
  u32[0] = e < 2 ? 0x00200000 << e : (e - 1) << 23;
  return f32[0]!;
}

/** `best_index_mxfp4(x, e)`: the first code with the smallest |kvalue·e − x| (binary32). */
function bestIndex(x: number, e: number): number {
  let best = 0;
  let bestErr = Math.abs(F(F(KVALUES_MXFP4[0]! * e) - x));
  for (let i = 1; i < 16; i++) {
    const err = Math.abs(F(F(KVALUES_MXFP4[i]! * e) - x));
    if (err < bestErr) { best = i; bestErr = err; }
  }
  return best;
}

export function quantizeRowMXFP4Ref(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, nBlocks: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const x = srcOff + b * 32;
    const o = dstOff + b * MXFP4.size;
    let amax = 0;
    for (let j = 0; j < 32; j++) {
      const a = Math.abs(src[x + j]!);
      if (amax < a) amax = a;
    }
    // `(uint8_t)(floorf(log2f(amax)) - 2 + 127)`: log2f rounds to binary32 before the floor.
    const e = amax > 0 ? floatToUint8(F(F(Math.floor(F(Math.log2(amax))) - 2) + 127)) : 0;
    const d = e8m0ToFp32Half(e);
    dst[o] = e;
    for (let j = 0; j < 16; j++) dst[o + 1 + j] = bestIndex(src[x + j]!, d) | (bestIndex(src[x + j + 16]!, d) << 4);
  }
}

export function dequantizeRowMXFP4(src: Uint8Array, srcOff: number, dst: Float32Array, dstOff: number, nBlocks: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const o = srcOff + b * MXFP4.size;
    const y = dstOff + b * 32;
    const d = e8m0ToFp32Half(src[o]!);
    for (let j = 0; j < 16; j++) {
      const q = src[o + 1 + j]!;
      dst[y + j] = KVALUES_MXFP4[q & 15]! * d;
      dst[y + j + 16] = KVALUES_MXFP4[q >>> 4]! * d;
    }
  }
}
