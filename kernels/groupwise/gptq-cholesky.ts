/**
 * The factor GPTQ's solver walks: `U = cholesky(cholesky_inverse(cholesky(H)), upper=True)`
 * (AutoGPTQ `GPTQ.fasterquant`), the upper Cholesky factor of H⁻¹ with H⁻¹ = Uᵀ U.
 * Computed in float64: upstream's float32 Cholesky of a 4096² H loses digits that its damping
 * only partly hides, and float64 makes the blocked solver agree with the unblocked OBQ form to
 * rounding (the exactness test). `H` is `[n, n]` row-major, symmetric positive definite.
 * The JS functions are the reference of the wasm chain the solver runs (upperCholeskyOfInverseWasm).
 */

import type { F64Wasm } from './wasm-f64.ts';

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

/** Bytes of wasm memory `upperCholeskyOfInverseWasm` needs besides H and U (float64 count). */
export const choleskyScratch = (n: number) => n * n + 2 + n + 2;

/**
 * `upperCholeskyOfInverse` in wasm (kernels/wasm/assembly/f64-solver.ts): the same float64
 * operations in the same order per result (f64x2 lanes are independent results), so the same U.
 * `hAt` holds H (n·n + 2 float64, the last two zero; overwritten), `uAt` receives U (n·n), and
 * `scratchAt` is `choleskyScratch(n)` float64; all byte offsets into `wasm`'s memory.
 */
export function upperCholeskyOfInverseWasm(wasm: F64Wasm, n: number, hAt: number, uAt: number, scratchAt: number): void {
  const bAt = scratchAt, sAt = scratchAt + 8 * (n * n + 2);
  const pivot = (col: number) => {
    if (col >= 0) throw new RangeError(`Hessian is not positive definite at column ${col} (pivot ${wasm.f64(sAt, 1)[0]}); raise damp_percent`);
  };
  wasm.f64(bAt, n * n + 2).fill(0);
  pivot(wasm.choleskyUpper(hAt, n, bAt, sAt)); // Lᵀ of H in B
  wasm.f64(hAt, n * n + 2).fill(0);
  wasm.lowerInverse(bAt, n, hAt, sAt); // M = L⁻¹ in A
  wasm.gramOfLower(hAt, n, bAt, sAt); // H⁻¹ = Mᵀ M in B
  wasm.f64(uAt, n * n).fill(0);
  pivot(wasm.choleskyUpper(bAt, n, uAt, sAt)); // U = (cholesky of H⁻¹)ᵀ
}
