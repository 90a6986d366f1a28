// Float64 kernels of the calibration solvers (kernels/groupwise/awq-clip.ts, gptq-solver.ts,
// gptq-cholesky.ts), on f64x2 with each lane an independent computation: the lanes never meet, so
// every lane performs exactly the float64 operations, in exactly the order, of the JS loop it
// replaces (wasm has no fused multiply-add, like JS), and the results are the same bits.

/**
 * auto_clip's error of candidates against one group's Gram matrix G (n × n, row-major):
 * err = Σ_a d[a] · (Σ_b G[a,b] · d[b]), both sums from +0 in index order. The candidates come in
 * pairs, interleaved: d at `dd + (p·n + k)·16` holds element k of candidates 2p and 2p+1. Four
 * pairs share each load of G (four independent chains); out gets 2·nPairs float64.
 */
export function quadFormPairsF64(gram: usize, n: i32, dd: usize, nPairs: i32, out: usize): void {
  const stride = (<usize>n) << 4;
  let p = 0;
  for (; p + 4 <= nPairs; p += 4) {
    const d0 = dd + <usize>p * stride, d1 = d0 + stride, d2 = d1 + stride, d3 = d2 + stride;
    let e0 = f64x2.splat(0), e1 = f64x2.splat(0), e2 = f64x2.splat(0), e3 = f64x2.splat(0);
    for (let a = 0; a < n; a++) {
      const ga = gram + ((<usize>a * n) << 3);
      let r0 = f64x2.splat(0), r1 = f64x2.splat(0), r2 = f64x2.splat(0), r3 = f64x2.splat(0);
      for (let b = 0; b < n; b++) {
        const g = f64x2.splat(load<f64>(ga + ((<usize>b) << 3)));
        const o = (<usize>b) << 4;
        r0 = f64x2.add(r0, f64x2.mul(g, v128.load(d0 + o)));
        r1 = f64x2.add(r1, f64x2.mul(g, v128.load(d1 + o)));
        r2 = f64x2.add(r2, f64x2.mul(g, v128.load(d2 + o)));
        r3 = f64x2.add(r3, f64x2.mul(g, v128.load(d3 + o)));
      }
      const o = (<usize>a) << 4;
      e0 = f64x2.add(e0, f64x2.mul(v128.load(d0 + o), r0));
      e1 = f64x2.add(e1, f64x2.mul(v128.load(d1 + o), r1));
      e2 = f64x2.add(e2, f64x2.mul(v128.load(d2 + o), r2));
      e3 = f64x2.add(e3, f64x2.mul(v128.load(d3 + o), r3));
    }
    const q = out + ((<usize>p) << 4);
    v128.store(q, e0); v128.store(q, e1, 16); v128.store(q, e2, 32); v128.store(q, e3, 48);
  }
  for (; p < nPairs; p++) {
    const d0 = dd + <usize>p * stride;
    let e0 = f64x2.splat(0);
    for (let a = 0; a < n; a++) {
      const ga = gram + ((<usize>a * n) << 3);
      let r0 = f64x2.splat(0);
      for (let b = 0; b < n; b++) r0 = f64x2.add(r0, f64x2.mul(f64x2.splat(load<f64>(ga + ((<usize>b) << 3))), v128.load(d0 + ((<usize>b) << 4))));
      e0 = f64x2.add(e0, f64x2.mul(v128.load(d0 + ((<usize>a) << 4)), r0));
    }
    v128.store(out + ((<usize>p) << 4), e0);
  }
}

/**
 * GPTQ's block updates, W[:, k] -= E[:, i] · U[i, k]: for each target column k in [k0, k1) (rows
 * floats each, column-major at w) and each error column i in [0, nErr) (at e), in i order,
 * w[r] = w[r] − e[r]·u, skipping u = 0 as the JS loop does. u = U[(u0 + i)·uStride + k]. rows
 * lanes run two at a time; an odd last row goes scalar (the same two operations).
 * u = U[(u0 + i)·uStride + uc0 + k] (uc0: where column 0 of w sits in U).
 */
export function subOuterF64(w: usize, rows: i32, k0: i32, k1: i32, e: usize, nErr: i32, u: usize, uStride: i32, u0: i32, uc0: i32): void {
  const cb = (<usize>rows) << 3;
  const rows2 = rows & ~1;
  for (let k = k0; k < k1; k++) {
    const wk = w + <usize>k * cb;
    for (let i = 0; i < nErr; i++) {
      const uv = load<f64>(u + (((<usize>(u0 + i)) * <usize>uStride + <usize>(uc0 + k)) << 3));
      if (uv == 0) continue;
      const us = f64x2.splat(uv);
      const ei = e + <usize>i * cb;
      let r = 0;
      for (; r < rows2; r += 2) {
        const o = (<usize>r) << 3;
        v128.store(wk + o, f64x2.sub(v128.load(wk + o), f64x2.mul(v128.load(ei + o), us)));
      }
      if (r < rows) {
        const o = (<usize>r) << 3;
        store<f64>(wk + o, load<f64>(wk + o) - load<f64>(ei + o) * uv);
      }
    }
  }
}

/**
 * The lower Cholesky factor of H (n × n, row-major at h), written transposed: lt[k·n + i] = L[i,k]
 * (the upper factor Lᵀ, row-major). Per column j, as the JS choleskyLower: the pivot
 * d = H[j,j] − Σ_k L[j,k]² in k order, then s_i = H[i,j] − Σ_{k<j} L[i,k]·L[j,k] in k order for
 * every i > j (f64x2 lanes = two i; the k loop runs outside the i loop, which keeps each lane's
 * order), L[i,j] = s_i / √d. s is n float64 of scratch. Returns −1, or the first column whose
 * pivot is not positive (its value in s[0]).
 */
export function choleskyUpperF64(h: usize, n: i32, lt: usize, s: usize): i32 {
  const nb = (<usize>n) << 3;
  for (let j = 0; j < n; j++) {
    let d = load<f64>(h + <usize>j * nb + ((<usize>j) << 3));
    for (let k = 0; k < j; k++) {
      const v = load<f64>(lt + <usize>k * nb + ((<usize>j) << 3));
      d -= v * v;
    }
    if (!(d > 0)) {
      store<f64>(s, d);
      return j;
    }
    const ljj = Math.sqrt(d);
    const ltj = lt + <usize>j * nb;
    store<f64>(ltj + ((<usize>j) << 3), ljj);
    for (let i = j + 1; i < n; i++) store<f64>(s + ((<usize>i) << 3), load<f64>(h + <usize>i * nb + ((<usize>j) << 3)));
    const i0 = j + 1, span = n - i0, span2 = span & ~1;
    for (let k = 0; k < j; k++) {
      const ljk = load<f64>(lt + <usize>k * nb + ((<usize>j) << 3));
      const v = f64x2.splat(ljk);
      const row = lt + <usize>k * nb + ((<usize>i0) << 3), sp = s + ((<usize>i0) << 3);
      let t = 0;
      for (; t < span2; t += 2) {
        const o = (<usize>t) << 3;
        v128.store(sp + o, f64x2.sub(v128.load(sp + o), f64x2.mul(v128.load(row + o), v)));
      }
      if (t < span) {
        const o = (<usize>t) << 3;
        store<f64>(sp + o, load<f64>(sp + o) - load<f64>(row + o) * ljk);
      }
    }
    for (let i = i0; i < n; i++) store<f64>(ltj + ((<usize>i) << 3), load<f64>(s + ((<usize>i) << 3)) / ljj);
  }
  return -1;
}

/**
 * M = L⁻¹ (lower, row-major at m, which must hold zeros above the diagonal and one zero past the
 * end) from lt = Lᵀ, as the JS choleskyInverse's first half: M[j,j] = 1/L[j,j],
 * M[i,j] = −(Σ_{k=j}^{i−1} L[i,k]·M[k,j]) / L[i,i] summed from +0 in k order. Row by row, lanes =
 * two j; a lane's terms before k = j multiply a zero of M's upper part and leave its +0 sum +0.
 * s: n + 1 float64 scratch.
 */
export function lowerInverseF64(lt: usize, n: i32, m: usize, s: usize): void {
  const nb = (<usize>n) << 3;
  for (let i = 0; i < n; i++) {
    const lii = load<f64>(lt + <usize>i * nb + ((<usize>i) << 3));
    memory.fill(s, 0, (<usize>(i + 2)) << 3);
    for (let k = 0; k < i; k++) {
      const lik = load<f64>(lt + <usize>k * nb + ((<usize>i) << 3));
      const v = f64x2.splat(lik);
      const mk = m + <usize>k * nb;
      for (let j = 0; j <= k; j += 2) {
        const o = (<usize>j) << 3;
        v128.store(s + o, f64x2.add(v128.load(s + o), f64x2.mul(v, v128.load(mk + o))));
      }
    }
    const mi = m + <usize>i * nb;
    for (let j = 0; j < i; j++) store<f64>(mi + ((<usize>j) << 3), -load<f64>(s + ((<usize>j) << 3)) / lii);
    store<f64>(mi + ((<usize>i) << 3), 1 / lii);
  }
}

/**
 * inv = Mᵀ M (symmetric, row-major at inv) from M = L⁻¹ at m (zeros above the diagonal, one zero
 * past the end), as the JS choleskyInverse's second half: inv[i,j] = Σ_{k=j}^{n−1} M[k,i]·M[k,j]
 * from +0 in k order, for j ≥ i, mirrored. Lanes = two j (earlier k hit M's upper zeros). s: n + 2
 * float64 scratch.
 */
export function gramOfLowerF64(m: usize, n: i32, inv: usize, s: usize): void {
  const nb = (<usize>n) << 3;
  for (let i = 0; i < n; i++) {
    memory.fill(s, 0, (<usize>(n + 2)) << 3);
    for (let k = i; k < n; k++) {
      const v = f64x2.splat(load<f64>(m + <usize>k * nb + ((<usize>i) << 3)));
      const mk = m + <usize>k * nb;
      for (let j = i; j <= k; j += 2) {
        const o = (<usize>j) << 3;
        v128.store(s + o, f64x2.add(v128.load(s + o), f64x2.mul(v, v128.load(mk + o))));
      }
    }
    for (let j = i; j < n; j++) {
      const x = load<f64>(s + ((<usize>j) << 3));
      store<f64>(inv + <usize>i * nb + ((<usize>j) << 3), x);
      store<f64>(inv + <usize>j * nb + ((<usize>i) << 3), x);
    }
  }
}
