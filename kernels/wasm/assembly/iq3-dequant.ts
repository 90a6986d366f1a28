// IQ3_XXS and IQ3_S dequantizers: `dequantize_row_iq3_xxs`, `dequantize_row_iq3_s`
// (ggml-quants.c), bit for bit (layouts in kernels/ref/iq3.ts). Each value is C's
// `db * grid[j] * (sign ? -1.f : 1.f)`: a multiply by −1, not a negation, so a NaN scale keeps the
// sign bit C gives it. Four values of a grid point per SIMD step.
import { fp16ToFp32 } from './numeric';
import { IQ3S_GRID, IQ3XXS_GRID } from './iq3-grids';

const MASK_LO = memory.data<i32>([1, 2, 4, 8], 16);

/** y[0..4) = db · bytes of grid point g · (±1 per sign bit shift..shift+3 of signs). */
// @ts-ignore: decorator
@inline function put4(y: usize, db: v128, g: u32, signs: i32, shift: i32): void {
  const v = f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(i32x4.splat(<i32>g))));
  const neg = i32x4.ne(v128.and(i32x4.splat(signs >> shift), v128.load(MASK_LO)), i32x4.splat(0));
  v128.store(y, f32x4.mul(f32x4.mul(db, v), v128.bitselect(f32x4.splat(-1), f32x4.splat(1), neg)));
}

/** ksigns_iq2xs[i]: the 7 stored signs plus an 8th that makes the count of set bits even. */
// @ts-ignore: decorator
@inline function ksigns(i: i32): i32 { return i | ((popcnt<i32>(i) & 1) << 7); }

export function dequantizeIQ3_XXS(x: usize, y: usize, blocks: i32): void {
  for (let b = 0; b < blocks; b++, x += 98) {
    const d = fp16ToFp32(load<u16>(x));
    for (let ib = 0; ib < 8; ib++) {
      const aux = load<u32>(x + 66 + (<usize>ib << 2));
      const db = f32x4.splat(d * (<f32>0.5 + <f32>(aux >> 28)) * <f32>0.5);
      const qs = x + 2 + (<usize>ib << 3);
      for (let l = 0; l < 4; l++, y += 32) {
        const signs = ksigns(<i32>(aux >> (7 * l)) & 127);
        put4(y, db, load<u32>(IQ3XXS_GRID + (<usize>load<u8>(qs + 2 * l) << 2)), signs, 0);
        put4(y + 16, db, load<u32>(IQ3XXS_GRID + (<usize>load<u8>(qs + 2 * l + 1) << 2)), signs, 4);
      }
    }
  }
}

export function dequantizeIQ3_S(x: usize, y: usize, blocks: i32): void {
  for (let b = 0; b < blocks; b++, x += 110) {
    const d = fp16ToFp32(load<u16>(x));
    for (let ib = 0; ib < 8; ib++) {
      const sc = <i32>load<u8>(x + 106 + (ib >> 1));
      const m: i32 = 1 + 2 * (ib & 1 ? sc >> 4 : sc & 15);
      const db = f32x4.splat(d * <f32>m);
      const h = <i32>load<u8>(x + 66 + ib);
      const qs = x + 2 + (<usize>ib << 3);
      for (let l = 0; l < 4; l++, y += 32) {
        const i1 = <i32>load<u8>(qs + 2 * l) | ((h << (8 - 2 * l)) & 256);
        const i2 = <i32>load<u8>(qs + 2 * l + 1) | ((h << (7 - 2 * l)) & 256);
        const s = <i32>load<u8>(x + 74 + (<usize>ib << 2) + l);
        put4(y, db, load<u32>(IQ3S_GRID + (<usize>i1 << 2)), s, 0);
        put4(y + 16, db, load<u32>(IQ3S_GRID + (<usize>i2 << 2)), s, 4);
      }
    }
  }
}
