// IQ1_S and IQ1_M dequantizers (`dequantize_row_iq1_s`, `dequantize_row_iq1_m`, ggml-quants.c),
// 8 values (one iq1s_grid point) per step: y = dl·(grid + delta), the int8 → float conversion
// exact and then the same two binary32 ops per value as C, so the floats equal kernels/ref/iq1.ts
// and llama.cpp bit for bit. Block layouts: kernels/ref/iq1.ts.
import { fp16ToFp32 } from './numeric';
import { IQ1S_GRID } from './iq2-grids';

/** y[0..8) = dl·(iq1s_grid[g] + delta). */
// @ts-ignore: decorator
@inline function put8(y: usize, g: i32, dl: v128, delta: v128): void {
  const v = v128.load8x8_s(IQ1S_GRID + (<usize>g << 3));
  v128.store(y, f32x4.mul(dl, f32x4.add(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(v)), delta)));
  v128.store(y, f32x4.mul(dl, f32x4.add(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(v)), delta)), 16);
}

// @ts-ignore: decorator
@inline function deltaOf(negative: bool): v128 {
  return f32x4.splat(negative ? <f32>-0.125 : <f32>0.125);
}

export function dequantizeIQ1_S(x: usize, y: usize, nb: i32): void {
  for (let i = 0; i < nb; i++, x += 50) {
    const d = fp16ToFp32(load<u16>(x));
    for (let ib = 0; ib < 8; ib++, y += 128) {
      const qh = <i32>load<u16>(x + 34 + (<usize>ib << 1));
      const dl = f32x4.splat(d * <f32>(<i32>(2 * ((qh >> 12) & 7) + 1)));
      const delta = deltaOf((qh & 0x8000) != 0);
      const qs = x + 2 + (<usize>ib << 2);
      for (let l = 0; l < 4; l++) put8(y + (<usize>l << 5), <i32>load<u8>(qs + l) | (((qh >> (3 * l)) & 7) << 8), dl, delta);
    }
  }
}

export function dequantizeIQ1_M(x: usize, y: usize, nb: i32): void {
  for (let i = 0; i < nb; i++, x += 56) {
    const sc = x + 48;
    const s16 = (<u32>load<u16>(sc) >> 12) | ((<u32>load<u16>(sc, 2) >> 8) & 0x00f0) | ((<u32>load<u16>(sc, 4) >> 4) & 0x0f00) | (<u32>load<u16>(sc, 6) & 0xf000);
    const d = fp16ToFp32(s16);
    for (let ib = 0; ib < 8; ib++, y += 128) {
      const s = <i32>load<u16>(sc + (<usize>(ib >> 1) << 1));
      const dl1 = f32x4.splat(d * <f32>(<i32>(2 * ((s >> (6 * (ib % 2))) & 7) + 1)));
      const dl2 = f32x4.splat(d * <f32>(<i32>(2 * ((s >> (6 * (ib % 2) + 3)) & 7) + 1)));
      const qs = x + (<usize>ib << 2);
      const h0 = <i32>load<u8>(x + 32 + (<usize>ib << 1)), h1 = <i32>load<u8>(x + 33 + (<usize>ib << 1));
      put8(y, <i32>load<u8>(qs) | ((h0 << 8) & 0x700), dl1, deltaOf((h0 & 0x08) != 0));
      put8(y + 32, <i32>load<u8>(qs, 1) | ((h0 << 4) & 0x700), dl1, deltaOf((h0 & 0x80) != 0));
      put8(y + 64, <i32>load<u8>(qs, 2) | ((h1 << 8) & 0x700), dl2, deltaOf((h1 & 0x08) != 0));
      put8(y + 96, <i32>load<u8>(qs, 3) | ((h1 << 4) & 0x700), dl2, deltaOf((h1 & 0x80) != 0));
    }
  }
}
