// The f32 core of the forward pass's matrix multiplication (kernels/forward/matmul-ref.ts is the
// reference): out[t·outStride + r] = Σ_c x[t·cols + c] · w[r·cols + c] for a panel of nRows
// dequantized weight rows. Register tiles of 4 tokens × 2 rows: 8 f32x4 accumulators, 4 x loads
// and 2 w loads per 4 columns, so each weight vector feeds 4 tokens and each x vector 2 rows (16
// SIMD registers on x64; a bigger tile spills). Plain mul + add (relaxed-SIMD FMA is not in Node 20).

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/**
 * 4 tokens × 2 rows. cols4 = cols rounded down to a multiple of 4; the tail goes scalar. Walks
 * six pointers rather than indexing from bases, so the loads need no address arithmetic. (Tile
 * shapes 6×2, 5×2, 4×3, 3×3, 8×1 measured slower in CPU time; 2×4 was equal but reads the weight
 * panel from L2 twice as often.)
 */
function tile4x2(x: usize, xs: usize, w: usize, ws: usize, cols: i32, cols4: i32, out: usize, os: usize): void {
  let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
  let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
  let p0 = x, p1 = x + xs, p2 = x + 2 * xs, p3 = x + 3 * xs, q0 = w, q1 = w + ws;
  const end = q0 + (<usize>cols4 << 2);
  while (q0 < end) {
    const v0 = v128.load(q0), v1 = v128.load(q1);
    let u = v128.load(p0);
    a00 = f32x4.add(a00, f32x4.mul(u, v0)); a01 = f32x4.add(a01, f32x4.mul(u, v1));
    u = v128.load(p1);
    a10 = f32x4.add(a10, f32x4.mul(u, v0)); a11 = f32x4.add(a11, f32x4.mul(u, v1));
    u = v128.load(p2);
    a20 = f32x4.add(a20, f32x4.mul(u, v0)); a21 = f32x4.add(a21, f32x4.mul(u, v1));
    u = v128.load(p3);
    a30 = f32x4.add(a30, f32x4.mul(u, v0)); a31 = f32x4.add(a31, f32x4.mul(u, v1));
    p0 += 16; p1 += 16; p2 += 16; p3 += 16; q0 += 16; q1 += 16;
  }
  let s00 = hsum(a00), s01 = hsum(a01), s10 = hsum(a10), s11 = hsum(a11);
  let s20 = hsum(a20), s21 = hsum(a21), s30 = hsum(a30), s31 = hsum(a31);
  const x1 = x + xs, x2 = x1 + xs, x3 = x2 + xs, w1 = w + ws;
  for (let c = cols4; c < cols; c++) {
    const o = <usize>c << 2;
    const v0 = load<f32>(w + o), v1 = load<f32>(w1 + o);
    let u = load<f32>(x + o); s00 += u * v0; s01 += u * v1;
    u = load<f32>(x1 + o); s10 += u * v0; s11 += u * v1;
    u = load<f32>(x2 + o); s20 += u * v0; s21 += u * v1;
    u = load<f32>(x3 + o); s30 += u * v0; s31 += u * v1;
  }
  store<f32>(out, s00); store<f32>(out, s01, 4);
  store<f32>(out + os, s10); store<f32>(out + os, s11, 4);
  store<f32>(out + 2 * os, s20); store<f32>(out + 2 * os, s21, 4);
  store<f32>(out + 3 * os, s30); store<f32>(out + 3 * os, s31, 4);
}

/** One token × one row (edges of the tile grid). */
function dot1(x: usize, w: usize, cols: i32, cols4: i32): f32 {
  let a = f32x4.splat(0), b = f32x4.splat(0);
  let c = 0;
  for (; c + 8 <= cols4; c += 8) {
    const o = <usize>c << 2;
    a = f32x4.add(a, f32x4.mul(v128.load(x + o), v128.load(w + o)));
    b = f32x4.add(b, f32x4.mul(v128.load(x + o, 16), v128.load(w + o, 16)));
  }
  if (c < cols4) {
    const o = <usize>c << 2;
    a = f32x4.add(a, f32x4.mul(v128.load(x + o), v128.load(w + o)));
  }
  let s = hsum(f32x4.add(a, b));
  for (let k = cols4; k < cols; k++) s += load<f32>(x + (<usize>k << 2)) * load<f32>(w + (<usize>k << 2));
  return s;
}

/**
 * out[t·outStride + r] = x[t,:] · w[r,:] for t < nTokens, r < nRows. x: nTokens rows of cols
 * floats; w: nRows rows of cols floats (a dequantized panel); all pointers into this memory.
 */
export function matmulPanelF32(x: usize, nTokens: i32, cols: i32, w: usize, nRows: i32, out: usize, outStride: i32): void {
  const xs = <usize>cols << 2, os = <usize>outStride << 2;
  const cols4 = cols & ~3;
  const rows2 = nRows & ~1;
  let t = 0;
  for (; t + 4 <= nTokens; t += 4) {
    const xt = x + <usize>t * xs, ot = out + <usize>t * os;
    for (let r = 0; r < rows2; r += 2) tile4x2(xt, xs, w + <usize>r * xs, xs, cols, cols4, ot + (<usize>r << 2), os);
    if (rows2 < nRows) {
      const wr = w + <usize>rows2 * xs;
      for (let k = 0; k < 4; k++) store<f32>(ot + <usize>k * os + (<usize>rows2 << 2), dot1(xt + <usize>k * xs, wr, cols, cols4));
    }
  }
  for (; t < nTokens; t++) {
    const xt = x + <usize>t * xs, ot = out + <usize>t * os;
    for (let r = 0; r < nRows; r++) store<f32>(ot + (<usize>r << 2), dot1(xt, w + <usize>r * xs, cols, cols4));
  }
}
