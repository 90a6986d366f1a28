/**
 * Seeded importance-matrix vectors for the imatrix quantizer tests: what llama-imatrix writes
 * (mean x² per column) and worse — zeros, huge ratios between columns, all-zero, tiny.
 */
import { Rng } from './kernels-inputs.ts';

export const IMATRIX_KINDS = ['ones', 'uniform', 'huge-ratios', 'sparse-zeros', 'all-zero', 'tiny'] as const;
/** …and a llama-imatrix-like vector with a few dominant columns (the fast-path tests, which can afford one more kind). */
export const ALL_IMATRIX_KINDS = [...IMATRIX_KINDS, 'mean-x2'] as const;
export type ImatrixKind = (typeof ALL_IMATRIX_KINDS)[number];

export function importance(kind: ImatrixKind, n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    switch (kind) {
      case 'ones': v[i] = 1; break;
      case 'uniform': v[i] = rng.next() * 4; break;
      case 'huge-ratios': v[i] = 10 ** (rng.next() * 16 - 8); break; // 1e-8 .. 1e8 between columns
      case 'sparse-zeros': v[i] = rng.next() < 0.3 ? 0 : rng.gauss() ** 2 * 3; break;
      case 'all-zero': v[i] = 0; break;
      case 'tiny': v[i] = rng.next() * 1e-30; break;
      case 'mean-x2': v[i] = rng.gauss() ** 2 * 1e-3 + (i % 97 === 0 ? 50 : 0); break;
    }
  }
  return v;
}
