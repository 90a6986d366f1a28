// The round-trip metrics of kernels/metrics.mjs (RoundTripMetrics.add) for the pool workers, on the
// original floats and their dequantized round trip in this module's memory: the same float64
// operations in the same order, so the same bits. Each 256-pair block is summed in index order;
// two blocks run side by side in the two lanes of f64x2. The block sums then go into the
// Neumaier-compensated totals here too, in block order, so the host only reads the final state.
//
// The lane loop sums every pair without the finite test: when all pairs of a block are finite it
// gives exactly the masked sums (the mask would keep every term), and when one is not, Σ|d| of
// its block is not finite (finite |d| of f32 differences cannot overflow float64), so that pair of
// blocks is summed again by the scalar loop, which skips non-finite pairs as add() does.

const BLOCK = 256;

/**
 * The accumulator state, 13 float64 at `state`: sum and compensation of Σd², Σ|d|, Σw², Σq², Σwq
 * (in that order), then max|d|, the count of finite pairs and the count of skipped pairs.
 * RoundTripMetrics.fromState reads it.
 */
const MAX_ABS = 80, COUNT = 88, NON_FINITE = 96;

/** CompensatedSum.add (metrics.mjs) on the (sum, comp) pair at s. */
// @ts-ignore: decorator
@inline function compensatedAdd(s: usize, v: f64): void {
  const sum = load<f64>(s);
  const t = sum + v;
  if (abs(sum) >= abs(v)) store<f64>(s, load<f64>(s, 8) + (sum - t + v), 8);
  else store<f64>(s, load<f64>(s, 8) + (v - t + sum), 8);
  store<f64>(s, t);
}

// @ts-ignore: decorator
@inline function addBlock(state: usize, se: f64, ae: f64, so: f64, sa: f64, sd: f64): void {
  compensatedAdd(state, se); compensatedAdd(state + 16, ae); compensatedAdd(state + 32, so);
  compensatedAdd(state + 48, sa); compensatedAdd(state + 64, sd);
}

/** add()'s loop over pairs [b, e), into the state; returns the pairs skipped. */
function scalarBlock(w: usize, q: usize, b: i32, e: i32, state: usize): i32 {
  let maxAbs = load<f64>(state, MAX_ABS);
  let se = 0.0, ae = 0.0, so = 0.0, sa = 0.0, sd = 0.0;
  let nonFinite = 0;
  for (let i = b; i < e; i++) {
    const x = <f64>load<f32>(w + (<usize>i << 2));
    const y = <f64>load<f32>(q + (<usize>i << 2));
    const d = y - x;
    if (d - d != 0) { nonFinite++; continue; }
    const ad = abs(d);
    if (ad > maxAbs) maxAbs = ad;
    se += d * d; ae += ad; so += x * x; sa += y * y; sd += x * y;
  }
  addBlock(state, se, ae, so, sa, sd);
  store<f64>(state, maxAbs, MAX_ABS);
  return nonFinite;
}

/** Lanes 2 and 3 of v moved to lanes 0 and 1 (for promote_low). */
// @ts-ignore: decorator
@inline function high(v: v128): v128 { return i32x4.shuffle(v, v, 2, 3, 2, 3); }

/**
 * Adds the n pairs (w[i], q[i]) of the floats at w and q to the accumulator state at `state`
 * (layout above), exactly as RoundTripMetrics.add(w, q) adds them to its fields.
 */
export function roundTripAccumulate(w: usize, q: usize, n: i32, state: usize): void {
  let nonFinite = 0;
  let b = 0;
  const zero = f64x2.splat(0);
  for (; b + 2 * BLOCK <= n; b += 2 * BLOCK) {
    let se = zero, ae = zero, so = zero, sa = zero, sd = zero;
    let vmax = f64x2.splat(load<f64>(state, MAX_ABS));
    for (let i = b; i < b + BLOCK; i += 4) {
      const pw = w + (<usize>i << 2), pq = q + (<usize>i << 2);
      // Floats i..i+3 of both blocks, interleaved (block 0 in lane 0): pairs i, i+1 | i+2, i+3.
      const wa = v128.load(pw), wb = v128.load(pw, BLOCK << 2), qa = v128.load(pq), qb = v128.load(pq, BLOCK << 2);
      const x01 = i32x4.shuffle(wa, wb, 0, 4, 1, 5), x23 = i32x4.shuffle(wa, wb, 2, 6, 3, 7);
      const y01 = i32x4.shuffle(qa, qb, 0, 4, 1, 5), y23 = i32x4.shuffle(qa, qb, 2, 6, 3, 7);
      // Pair i, then i+1, i+2, i+3 (each lane in its block's index order).
      let x: v128, y: v128, d: v128, ad: v128;
      x = f64x2.promote_low_f32x4(x01); y = f64x2.promote_low_f32x4(y01); d = f64x2.sub(y, x); ad = f64x2.abs(d);
      vmax = f64x2.pmax(vmax, ad); se = f64x2.add(se, f64x2.mul(d, d)); ae = f64x2.add(ae, ad);
      so = f64x2.add(so, f64x2.mul(x, x)); sa = f64x2.add(sa, f64x2.mul(y, y)); sd = f64x2.add(sd, f64x2.mul(x, y));
      x = f64x2.promote_low_f32x4(high(x01)); y = f64x2.promote_low_f32x4(high(y01)); d = f64x2.sub(y, x); ad = f64x2.abs(d);
      vmax = f64x2.pmax(vmax, ad); se = f64x2.add(se, f64x2.mul(d, d)); ae = f64x2.add(ae, ad);
      so = f64x2.add(so, f64x2.mul(x, x)); sa = f64x2.add(sa, f64x2.mul(y, y)); sd = f64x2.add(sd, f64x2.mul(x, y));
      x = f64x2.promote_low_f32x4(x23); y = f64x2.promote_low_f32x4(y23); d = f64x2.sub(y, x); ad = f64x2.abs(d);
      vmax = f64x2.pmax(vmax, ad); se = f64x2.add(se, f64x2.mul(d, d)); ae = f64x2.add(ae, ad);
      so = f64x2.add(so, f64x2.mul(x, x)); sa = f64x2.add(sa, f64x2.mul(y, y)); sd = f64x2.add(sd, f64x2.mul(x, y));
      x = f64x2.promote_low_f32x4(high(x23)); y = f64x2.promote_low_f32x4(high(y23)); d = f64x2.sub(y, x); ad = f64x2.abs(d);
      vmax = f64x2.pmax(vmax, ad); se = f64x2.add(se, f64x2.mul(d, d)); ae = f64x2.add(ae, ad);
      so = f64x2.add(so, f64x2.mul(x, x)); sa = f64x2.add(sa, f64x2.mul(y, y)); sd = f64x2.add(sd, f64x2.mul(x, y));
    }
    if (v128.any_true(f64x2.ne(f64x2.sub(ae, ae), zero))) {
      // A NaN/±Inf pair in one of the two blocks: the scalar loop skips it, as add() does.
      nonFinite += scalarBlock(w, q, b, b + BLOCK, state);
      nonFinite += scalarBlock(w, q, b + BLOCK, b + 2 * BLOCK, state);
      continue;
    }
    addBlock(state, f64x2.extract_lane(se, 0), f64x2.extract_lane(ae, 0), f64x2.extract_lane(so, 0), f64x2.extract_lane(sa, 0), f64x2.extract_lane(sd, 0));
    addBlock(state, f64x2.extract_lane(se, 1), f64x2.extract_lane(ae, 1), f64x2.extract_lane(so, 1), f64x2.extract_lane(sa, 1), f64x2.extract_lane(sd, 1));
    store<f64>(state, max(f64x2.extract_lane(vmax, 0), f64x2.extract_lane(vmax, 1)), MAX_ABS);
  }
  for (; b < n; b += BLOCK) nonFinite += scalarBlock(w, q, b, min(n, b + BLOCK), state);
  store<f64>(state, load<f64>(state, COUNT) + <f64>(n - nonFinite), COUNT);
  store<f64>(state, load<f64>(state, NON_FINITE) + <f64>nonFinite, NON_FINITE);
}
