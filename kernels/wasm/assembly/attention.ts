// Causal attention for one query head over its key/value head (kernels/forward/attention.ts is the
// reference; it ports llama-graph's build_attn_mha): scores q·k in f32x4 lanes, optional tanh
// soft-cap, scale, softmax with expf (musl's, as Mathf.exp) summed in f64, then Σ p_j·v_j with
// 16 output channels held in registers per pass over the keys.

// @ts-ignore: decorator
@inline function dot(a: usize, b: usize, d: i32): f32 {
  let acc = f32x4.splat(0);
  const d4 = d & ~3;
  for (let i = 0; i < d4; i += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(a + (<usize>i << 2)), v128.load(b + (<usize>i << 2))));
  let s = (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
  for (let i = d4; i < d; i++) s += load<f32>(a + (<usize>i << 2)) * load<f32>(b + (<usize>i << 2));
  return s;
}

/**
 * q, k, v, out: n rows of d floats (one head; k and v the kv head it reads); p: n floats scratch.
 * window ≤ 0: full causal; softcap 0: none.
 */
export function attentionHead(q: usize, k: usize, v: usize, out: usize, n: i32, d: i32, scale: f32, softcap: f32, window: i32, p: usize): void {
  const rs = <usize>d << 2;
  const invCap: f32 = softcap != 0 ? <f32>1 / softcap : 0;
  for (let t = 0; t < n; t++) {
    const lo = window > 0 ? max(0, t - window + 1) : 0;
    const qt = q + <usize>t * rs;
    let m: f32 = -Infinity;
    for (let j = lo; j <= t; j++) {
      let s = dot(qt, k + <usize>j * rs, d);
      if (softcap != 0) s = softcap * Mathf.tanh(s * invCap);
      const w = s * scale;
      store<f32>(p + (<usize>j << 2), w);
      if (w > m) m = w;
    }
    let sum: f64 = 0;
    for (let j = lo; j <= t; j++) {
      const e = Mathf.exp(load<f32>(p + (<usize>j << 2)) - m);
      store<f32>(p + (<usize>j << 2), e);
      sum += <f64>e;
    }
    const inv = <f32>(1.0 / sum);
    for (let j = lo; j <= t; j++) store<f32>(p + (<usize>j << 2), load<f32>(p + (<usize>j << 2)) * inv);
    const ot = out + <usize>t * rs;
    let c = 0;
    for (; c + 16 <= d; c += 16) {
      const co = <usize>c << 2;
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      for (let j = lo; j <= t; j++) {
        const pj = v128.load32_splat(p + (<usize>j << 2));
        const vj = v + <usize>j * rs + co;
        a0 = f32x4.add(a0, f32x4.mul(pj, v128.load(vj)));
        a1 = f32x4.add(a1, f32x4.mul(pj, v128.load(vj, 16)));
        a2 = f32x4.add(a2, f32x4.mul(pj, v128.load(vj, 32)));
        a3 = f32x4.add(a3, f32x4.mul(pj, v128.load(vj, 48)));
      }
      v128.store(ot + co, a0); v128.store(ot + co, a1, 16); v128.store(ot + co, a2, 32); v128.store(ot + co, a3, 48);
    }
    for (; c + 4 <= d; c += 4) {
      const co = <usize>c << 2;
      let a0 = f32x4.splat(0);
      for (let j = lo; j <= t; j++) a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(p + (<usize>j << 2)), v128.load(v + <usize>j * rs + co)));
      v128.store(ot + co, a0);
    }
    for (; c < d; c++) {
      let s: f32 = 0;
      for (let j = lo; j <= t; j++) s += load<f32>(p + (<usize>j << 2)) * load<f32>(v + <usize>j * rs + (<usize>c << 2));
      store<f32>(ot + (<usize>c << 2), s);
    }
  }
}
