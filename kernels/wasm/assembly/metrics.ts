// The round-trip sums of kernels/metrics.mjs (RoundTripMetrics.add) for the pool workers, on the
// original floats and their dequantized round trip in this module's memory: the same float64
// operations in the same order within each 256-pair block, so the same bits. Two blocks run side
// by side in the two lanes of f64x2 (each lane still sums its own block in index order), which
// makes it several times faster than the JS loop, the largest cost of a validated quantize. The
// host adds each block's sums to its compensated totals.

const BLOCK = 256;

/** Pair i of a lane-0 block at w and of the block after it, as float64 lanes. */
// @ts-ignore: decorator
@inline function pair(p: usize): v128 {
  return f64x2.replace_lane(f64x2.splat(<f64>load<f32>(p)), 1, <f64>load<f32>(p + (BLOCK << 2)));
}

/**
 * For each block of 256 pairs (the last may be shorter) of the n floats at w and q, writes the
 * float64 sums Σd², Σ|d|, Σw², Σq², Σwq (d = q − w) to out (5 per block), skipping pairs whose d
 * is not finite; then, after the last block, max|d| (starting from maxAbs), the finite count and
 * the skipped count.
 */
export function roundTripSums(w: usize, q: usize, n: i32, out: usize, maxAbs: f64): void {
  let nonFinite = 0;
  let o = out;
  let b = 0;
  // Skipped pairs add +0 instead: the sums start at +0 and only +0 + −0 could differ, which gives +0.
  const zero = f64x2.splat(0);
  let vmax = f64x2.splat(maxAbs);
  for (; b + 2 * BLOCK <= n; b += 2 * BLOCK) {
    let se = zero, ae = zero, so = zero, sa = zero, sd = zero;
    for (let i = b; i < b + BLOCK; i++) {
      const x = pair(w + (<usize>i << 2));
      const y = pair(q + (<usize>i << 2));
      const d = f64x2.sub(y, x);
      const ok = f64x2.eq(f64x2.sub(d, d), zero);
      nonFinite += 2 - popcnt(i64x2.bitmask(ok));
      const ad = v128.and(f64x2.abs(d), ok);
      vmax = f64x2.pmax(vmax, ad);
      se = f64x2.add(se, v128.and(f64x2.mul(d, d), ok));
      ae = f64x2.add(ae, ad);
      so = f64x2.add(so, v128.and(f64x2.mul(x, x), ok));
      sa = f64x2.add(sa, v128.and(f64x2.mul(y, y), ok));
      sd = f64x2.add(sd, v128.and(f64x2.mul(x, y), ok));
    }
    store<f64>(o, f64x2.extract_lane(se, 0)); store<f64>(o, f64x2.extract_lane(ae, 0), 8); store<f64>(o, f64x2.extract_lane(so, 0), 16);
    store<f64>(o, f64x2.extract_lane(sa, 0), 24); store<f64>(o, f64x2.extract_lane(sd, 0), 32);
    store<f64>(o, f64x2.extract_lane(se, 1), 40); store<f64>(o, f64x2.extract_lane(ae, 1), 48); store<f64>(o, f64x2.extract_lane(so, 1), 56);
    store<f64>(o, f64x2.extract_lane(sa, 1), 64); store<f64>(o, f64x2.extract_lane(sd, 1), 72);
    o += 80;
  }
  maxAbs = max(f64x2.extract_lane(vmax, 0), f64x2.extract_lane(vmax, 1));
  for (; b < n; b += BLOCK) {
    const e = min(n, b + BLOCK);
    let se = 0.0, ae = 0.0, so = 0.0, sa = 0.0, sd = 0.0;
    for (let i = b; i < e; i++) {
      const x = <f64>load<f32>(w + (<usize>i << 2));
      const y = <f64>load<f32>(q + (<usize>i << 2));
      const d = y - x;
      if (d - d != 0) { nonFinite++; continue; }
      const ad = abs(d);
      if (ad > maxAbs) maxAbs = ad;
      se += d * d; ae += ad; so += x * x; sa += y * y; sd += x * y;
    }
    store<f64>(o, se); store<f64>(o, ae, 8); store<f64>(o, so, 16); store<f64>(o, sa, 24); store<f64>(o, sd, 32);
    o += 40;
  }
  store<f64>(o, maxAbs); store<f64>(o, <f64>(n - nonFinite), 8); store<f64>(o, <f64>nonFinite, 16);
}
