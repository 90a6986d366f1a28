/**
 * Q6_K: 256 values in 16 sub-blocks of 16; int8 sub-scales, fp16 d (stored last), 6-bit codes
 * split into low nibbles (ql) and 2 high bits (qh); value = d·sc·(q−32).
 * Ports `quantize_row_q6_K_ref` and `dequantize_row_q6_K`.
 */
import { F, nearestInt, toInt8, clampInt } from './rounding.ts';
import { readFp16, writeFp16 } from './block-io.ts';
import { makeQxQuants } from './k-helpers.ts';
import { layoutOf } from '../block-layouts.ts';

const QK_K = 256;
const Q6_K = layoutOf('Q6_K');
const GROUP_MAX_EPS = F(1e-15);

const L = new Int32Array(QK_K);
const scales = new Float64Array(16);

export function quantizeRowQ6_KRef(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, nBlocks: number): void {
  quantizeBlocksQ6_K(src, srcOff, dst, dstOff, nBlocks, undefined);
}

/**
 * `quantize_row_q6_K_impl` for one row of nBlocks super-blocks: the same as the reference except
 * that make_qx_quants weighs by the RAW imatrix values qw (no σ² term, unlike the other K-quants).
 */
export function quantizeRowQ6_KImatrix(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, nPerRow: number, qw: Float32Array): void {
  quantizeBlocksQ6_K(src, srcOff, dst, dstOff, nPerRow / QK_K, qw);
}

function quantizeBlocksQ6_K(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, nBlocks: number, qw: Float32Array | undefined): void {
  for (let b = 0; b < nBlocks; b++) {
    const x = srcOff + b * QK_K;
    const o = dstOff + b * Q6_K.size; // ql[128] | qh[64] | scales[16] | d
    let maxScale = 0, maxAbs = 0;
    for (let ib = 0; ib < 16; ib++) {
      const s = makeQxQuants(16, 32, src, x + 16 * ib, L, 16 * ib, qw, QK_K * b + 16 * ib);
      scales[ib] = s;
      const a = Math.abs(s);
      if (a > maxAbs) { maxAbs = a; maxScale = s; }
    }
    if (maxAbs < GROUP_MAX_EPS) {
      dst.fill(0, o, o + Q6_K.size);
      continue;
    }
    const iscale = F(-128 / maxScale);
    writeFp16(dst, o + 208, F(1 / iscale));
    for (let ib = 0; ib < 16; ib++) {
      const l = nearestInt(F(iscale * scales[ib]!));
      dst[o + 192 + ib] = (127 < l ? 127 : l) & 255; // int8_t = MIN(127, ·)
    }
    const D = readFp16(dst, o + 208);
    for (let j = 0; j < 16; j++) {
      const d = F(D * toInt8(dst[o + 192 + j]!));
      if (d === 0) continue; // keep the codes make_qx_quants chose
      for (let ii = 0; ii < 16; ii++) {
        const l = nearestInt(F(src[x + 16 * j + ii]! / d));
        L[16 * j + ii] = clampInt(l, -32, 31) + 32;
      }
    }
    for (let h = 0; h < 2; h++) {
      const ql = o + 64 * h, qh = o + 128 + 32 * h, e = 128 * h;
      for (let l = 0; l < 32; l++) {
        const a = L[e + l]!, c = L[e + l + 32]!, s = L[e + l + 64]!, t = L[e + l + 96]!;
        dst[ql + l] = ((a & 15) | ((s & 15) << 4)) & 255;
        dst[ql + l + 32] = ((c & 15) | ((t & 15) << 4)) & 255;
        dst[qh + l] = ((a >> 4) | ((c >> 4) << 2) | ((s >> 4) << 4) | ((t >> 4) << 6)) & 255;
      }
    }
  }
}

export function dequantizeRowQ6_K(src: Uint8Array, srcOff: number, dst: Float32Array, dstOff: number, nBlocks: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const o = srcOff + b * Q6_K.size;
    const d = readFp16(src, o + 208);
    for (let h = 0; h < 2; h++) {
      const ql = o + 64 * h, qh = o + 128 + 32 * h, sc = o + 192 + 8 * h, y = dstOff + b * QK_K + 128 * h;
      for (let l = 0; l < 32; l++) {
        const is = l >>> 4;
        const hb = src[qh + l]!, lo = src[ql + l]!, hi = src[ql + l + 32]!;
        dst[y + l] = F(d * toInt8(src[sc + is]!)) * (((lo & 15) | ((hb & 3) << 4)) - 32);
        dst[y + l + 32] = F(d * toInt8(src[sc + is + 2]!)) * (((hi & 15) | (((hb >>> 2) & 3) << 4)) - 32);
        dst[y + l + 64] = F(d * toInt8(src[sc + is + 4]!)) * (((lo >>> 4) | (((hb >>> 4) & 3) << 4)) - 32);
        dst[y + l + 96] = F(d * toInt8(src[sc + is + 6]!)) * (((hi >>> 4) | (((hb >>> 6) & 3) << 4)) - 32);
      }
    }
  }
}
