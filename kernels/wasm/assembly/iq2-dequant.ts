// IQ2_XXS, IQ2_XS and IQ2_S dequantization (`dequantize_row_iq2_xxs`, `dequantize_row_iq2_xs`,
// `dequantize_row_iq2_s`, ggml-quants.c), bit-identical to kernels/ref/iq2.ts: each 8 values are
// y = (db·grid[j])·(±1) for one lattice point, db = (d·(0.5 + s))·0.25. 4 lanes at a time.
// Exports: (src, dst, blocks).
import { fp16ToFp32 } from './numeric';
import { IQ2XXS_GRID, IQ2XS_GRID, IQ2S_GRID, KSIGNS_IQ2XS } from './iq2-grids';

// @ts-ignore: decorator
@inline function groupScale(d: f32, s: i32): f32 {
  return d * (<f32>0.5 + <f32>s) * <f32>0.25;
}

/** y[0..8) = (db·point[j])·(signs bit j ? −1 : 1), point = the 8 grid bytes at p. */
// @ts-ignore: decorator
@inline function put8(y: usize, db: f32, p: usize, signs: i32): void {
  const b = i16x8.extend_low_i8x16_u(v128.load64_zero(p));
  const dv = f32x4.splat(db);
  const s = i32x4.splat(signs);
  const one = f32x4.splat(1), minus = f32x4.splat(-1);
  const m0 = i32x4.ne(v128.and(s, i32x4(1, 2, 4, 8)), i32x4.splat(0));
  const m1 = i32x4.ne(v128.and(s, i32x4(16, 32, 64, 128)), i32x4.splat(0));
  const g0 = f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(b)), g1 = f32x4.convert_i32x4_u(i32x4.extend_high_i16x8_u(b));
  v128.store(y, f32x4.mul(f32x4.mul(dv, g0), v128.bitselect(minus, one, m0)));
  v128.store(y, f32x4.mul(f32x4.mul(dv, g1), v128.bitselect(minus, one, m1)), 16);
}

export function dequantizeIQ2_XXS(x: usize, y: usize, blocks: i32): void {
  for (let b = 0; b < blocks; b++, x += 66) {
    const d = fp16ToFp32(load<u16>(x));
    for (let ib = 0; ib < 8; ib++, y += 128) {
      const q = x + 2 + (<usize>ib << 3);
      const aux1 = load<u32>(q, 4);
      const db = groupScale(d, <i32>(aux1 >> 28));
      for (let l = 0; l < 4; l++) {
        const signs = <i32>load<u8>(KSIGNS_IQ2XS + ((aux1 >> (7 * l)) & 127));
        put8(y + (<usize>l << 5), db, IQ2XXS_GRID + (<usize>load<u8>(q + l) << 3), signs);
      }
    }
  }
}

export function dequantizeIQ2_XS(x: usize, y: usize, blocks: i32): void {
  for (let b = 0; b < blocks; b++, x += 74) {
    const d = fp16ToFp32(load<u16>(x));
    for (let ib = 0; ib < 8; ib++, y += 128) {
      const sc = <i32>load<u8>(x + 66 + ib);
      const db0 = groupScale(d, sc & 15), db1 = groupScale(d, sc >> 4);
      for (let l = 0; l < 4; l++) {
        const q = <i32>load<u16>(x + 2 + (<usize>(4 * ib + l) << 1));
        const signs = <i32>load<u8>(KSIGNS_IQ2XS + (q >> 9));
        put8(y + (<usize>l << 5), l < 2 ? db0 : db1, IQ2XS_GRID + (<usize>(q & 511) << 3), signs);
      }
    }
  }
}

export function dequantizeIQ2_S(x: usize, y: usize, blocks: i32): void {
  for (let b = 0; b < blocks; b++, x += 82) {
    const d = fp16ToFp32(load<u16>(x));
    for (let ib = 0; ib < 8; ib++, y += 128) {
      const sc = <i32>load<u8>(x + 74 + ib);
      const db0 = groupScale(d, sc & 15), db1 = groupScale(d, sc >> 4);
      const qh = <i32>load<u8>(x + 66 + ib);
      for (let l = 0; l < 4; l++) {
        const point = <i32>load<u8>(x + 2 + 4 * ib + l) | ((qh << (8 - 2 * l)) & 0x300);
        put8(y + (<usize>l << 5), l < 2 ? db0 : db1, IQ2S_GRID + (<usize>point << 3), <i32>load<u8>(x + 34 + 4 * ib + l));
      }
    }
  }
}
