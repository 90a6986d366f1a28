/**
 * The factor GPTQ's solver walks: `U = cholesky(cholesky_inverse(cholesky(H)), upper=True)`
 * (AutoGPTQ `GPTQ.fasterquant`), the upper Cholesky factor of H⁻¹ with H⁻¹ = Uᵀ U.
 * Computed in float64: upstream's float32 Cholesky of a 4096² H loses digits that its damping
 * only partly hides, and float64 makes the blocked solver agree with the unblocked OBQ form to
 * rounding (the exactness test). `H` is `[n, n]` row-major, symmetric positive definite.
 */

/** Lower Cholesky factor L (H = L Lᵀ), row-major; throws RangeError when H is not positive definite. */
export function choleskyLower(H: Float64Array, n: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = H[j * n + j]!;
    for (let k = 0; k < j; k++) d -= L[j * n + k]! * L[j * n + k]!;
    if (!(d > 0)) throw new RangeError(`Hessian is not positive definite at column ${j} (pivot ${d}); raise damp_percent`);
    const ljj = Math.sqrt(d);
    L[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = H[i * n + j]!;
      for (let k = 0; k < j; k++) s -= L[i * n + k]! * L[j * n + k]!;
      L[i * n + j] = s / ljj;
    }
  }
  return L;
}

/** H⁻¹ from its lower factor (torch.cholesky_inverse): (L Lᵀ)⁻¹ = L⁻ᵀ L⁻¹. */
export function choleskyInverse(L: Float64Array, n: number): Float64Array {
  const M = new Float64Array(n * n); // M = L⁻¹, lower
  for (let j = 0; j < n; j++) {
    M[j * n + j] = 1 / L[j * n + j]!;
    for (let i = j + 1; i < n; i++) {
      let s = 0;
      for (let k = j; k < i; k++) s += L[i * n + k]! * M[k * n + j]!;
      M[i * n + j] = -s / L[i * n + i]!;
    }
  }
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let k = j; k < n; k++) s += M[k * n + i]! * M[k * n + j]!;
      inv[i * n + j] = s;
      inv[j * n + i] = s;
    }
  }
  return inv;
}

/** Upper factor U of H⁻¹ (Uᵀ U = H⁻¹), row-major. */
export function upperCholeskyOfInverse(H: Float64Array, n: number): Float64Array {
  const Linv = choleskyLower(choleskyInverse(choleskyLower(H, n), n), n);
  const U = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) U[i * n + j] = Linv[j * n + i]!;
  return U;
}
