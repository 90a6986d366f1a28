// Bit packing of the K-quant codes (the tail loops of ggml-quants.c `quantize_row_q*_K_ref`),
// 16 codes per SIMD step. L holds one code per byte, 16-byte aligned.

// @ts-ignore: decorator
@inline function ld8(p: usize): v128 { return v128.load(p); }

/** Q2_K/Q3_K: byte 32h+l = L[128h+l] | L[128h+l+32]<<2 | L[128h+l+64]<<4 | L[128h+l+96]<<6. */
export function pack2bit(L: usize, q: usize): void {
  for (let h = 0; h < 2; h++) {
    for (let l = 0; l < 32; l += 16) {
      const p = L + 128 * h + l;
      const v = v128.or(v128.or(ld8(p), i8x16.shl(ld8(p + 32), 2)), v128.or(i8x16.shl(ld8(p + 64), 4), i8x16.shl(ld8(p + 96), 6)));
      v128.store(q + 32 * h + l, v);
    }
  }
}

/** Q3_K: codes 0..7 → hmask bit (e/32) of byte e%32 set for codes > 3, codes reduced to 0..3. */
export function splitHighBit(L: usize, hmask: usize): void {
  const three = i8x16.splat(3);
  for (let l = 0; l < 32; l += 16) {
    let m = i8x16.splat(0);
    for (let j = 0; j < 8; j++) {
      const p = L + 32 * j + l;
      const v = ld8(p);
      m = v128.or(m, v128.and(i8x16.gt_u(v, three), i8x16.splat(<i8>(<i32>1 << j))));
      v128.store(p, v128.and(v, three));
    }
    v128.store(hmask + l, m);
  }
}

/** Q4_K: qs[32c+l] = L[64c+l] | L[64c+32+l]<<4. */
export function packQ4K(L: usize, qs: usize): void {
  for (let c = 0; c < 4; c++) {
    for (let l = 0; l < 32; l += 16) {
      const p = L + 64 * c + l;
      v128.store(qs + 32 * c + l, v128.or(ld8(p), i8x16.shl(ld8(p + 32), 4)));
    }
  }
}

/** Q5_K: as Q4_K on the low 4 bits; bit 4 of L[64c+l] / L[64c+32+l] → bit 2c / 2c+1 of qh[l]. */
export function packQ5K(L: usize, qh: usize, qs: usize): void {
  const lo = i8x16.splat(15);
  for (let l = 0; l < 32; l += 16) {
    let h = i8x16.splat(0);
    for (let c = 0; c < 4; c++) {
      const p = L + 64 * c + l;
      const a = ld8(p), b = ld8(p + 32);
      h = v128.or(h, v128.or(
        v128.and(i8x16.gt_u(a, lo), i8x16.splat(<i8>(<i32>1 << (2 * c)))),
        v128.and(i8x16.gt_u(b, lo), i8x16.splat(<i8>(<i32>2 << (2 * c))))));
      v128.store(qs + 32 * c + l, v128.or(v128.and(a, lo), i8x16.shl(v128.and(b, lo), 4)));
    }
    v128.store(qh + l, h);
  }
}

/** Q6_K: low nibbles into ql (a|c<<4, b|e<<4), the 2 high bits of a,b,c,e into qh. */
export function packQ6K(L: usize, ql: usize, qh: usize): void {
  const lo = i8x16.splat(15);
  for (let h = 0; h < 2; h++) {
    for (let l = 0; l < 32; l += 16) {
      const p = L + 128 * h + l;
      const a = ld8(p), b = ld8(p + 32), c = ld8(p + 64), e = ld8(p + 96);
      v128.store(ql + 64 * h + l, v128.or(v128.and(a, lo), i8x16.shl(v128.and(c, lo), 4)));
      v128.store(ql + 64 * h + l + 32, v128.or(v128.and(b, lo), i8x16.shl(v128.and(e, lo), 4)));
      v128.store(qh + 32 * h + l, v128.or(
        v128.or(i8x16.shr_u(a, 4), i8x16.shl(i8x16.shr_u(b, 4), 2)),
        v128.or(i8x16.shl(i8x16.shr_u(c, 4), 4), i8x16.shl(i8x16.shr_u(e, 4), 6))));
    }
  }
}
