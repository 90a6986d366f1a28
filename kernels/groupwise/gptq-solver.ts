/**
 * GPTQ's error-compensating solver, AutoGPTQ `GPTQ.fasterquant` (reference §3.1), step for step:
 * whole-row params first (used when group_size = -1), dead columns (diag(H) = 0 → H[i,i] = 1,
 * W[:, i] = 0), static groups, act-order (columns by diag(H) descending), dampening
 * `percdamp · mean(diag H)`, U = upper Cholesky of H⁻¹, then 128-column blocks with in-block error
 * feedback and a lazy update of the later columns. Group params come from `Quantizer.find_params`
 * (`gptqFit`, fp16 scales as the packer needs) when a group starts, read from the *global* W —
 * which lacks the in-block updates of the block's earlier columns, the upstream quirk kept here.
 *
 * Precision: float64 throughout (W, H, U, errors). Upstream runs in torch float32, whose results
 * depend on BLAS summation order and so are not reproducible bit-for-bit anyway; the code choice
 * `clamp(round(w/s) + z)` is where float32 would matter, and there the difference only moves
 * values within an ulp of a rounding tie. Float64 lets the blocked solver equal the unblocked
 * OBQ form (test/gptq-solver.test.ts).
 *
 * Speed: the O(n³) and O(rows·n²) parts — U (upperCholeskyOfInverseWasm) and the in-block and lazy
 * `W -= Err·U` updates (subOuterF64) — run in wasm on f64x2 whose two lanes are independent results
 * computed with the JS loops' operations in their order, so the codes are the same bits as the
 * plain JS solver's (test/f64-solver-kernels.test.ts). The per-column quantization stays in JS.
 */
import { roundHalfEven } from './round.ts';
import { groupCount, maxCode, checkSpec, type GroupwiseSpec, type QuantizedMatrix } from './spec.ts';
import { descendingOrder } from './groups.ts';
import { gptqFit } from './rtn-gptq.ts';
import { upperCholeskyOfInverseWasm, choleskyScratch } from './gptq-cholesky.ts';
import { F64Wasm } from './wasm-f64.ts';

export interface GptqSolveOptions {
  /** Fraction of mean(diag H) added to the diagonal (AutoGPTQ default 0.01). */
  dampPercent?: number;
  /** Lazy-batch block size (128 upstream). */
  blockSize?: number;
  /** Group params computed once up front on the original column order. */
  staticGroups?: boolean;
  /** See gptqFit: GPTQ v1 cannot store z = 0 (default true). */
  v1SafeZero?: boolean;
  /** Calibration sequences behind H: "avg loss" = loss / nsamples. */
  nsamples?: number;
}

export interface GptqSolution extends QuantizedMatrix {
  /** Σ (w − q)² / (2 U_jj²) over all rows and columns (the OBS estimate of the added error). */
  loss: number;
  /** AutoGPTQ's logged "avg loss": loss / nsamples (NaN without nsamples). */
  avgLoss: number;
  /** Fake-quantized weight Q = s (q − z), `[rows, cols]`, what upstream writes back to the layer. */
  dequantized: Float32Array;
}

export function gptqFasterquant(
  weight: Float32Array, rows: number, cols: number, hessian: Float32Array | Float64Array,
  spec: GroupwiseSpec, opts: GptqSolveOptions = {},
): GptqSolution {
  checkSpec(spec, cols);
  if (weight.length !== rows * cols) throw new RangeError(`weight has ${weight.length} values, expected ${rows}x${cols}`);
  if (hessian.length !== cols * cols) throw new RangeError(`Hessian has ${hessian.length} values, expected ${cols}x${cols}`);
  const damp = opts.dampPercent ?? 0.01, bs = opts.blockSize ?? 128, staticGroups = opts.staticGroups ?? false;
  const fit = gptqFit(spec, opts.v1SafeZero ?? true);
  const maxq = maxCode(spec.bits);
  const gs = spec.groupSize, G = groupCount(gs, cols);
  const actorder = spec.descAct ?? false;

  // W column-major (Wc[c * rows + r]) so the column loop reads contiguous memory
  const Wc = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) Wc[c * rows + r] = weight[r * cols + c]!;
  const fitColumns = (src: Float64Array, from: number, to: number) => {
    const sc = new Float64Array(rows), ze = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      let min = Infinity, max = -Infinity;
      for (let c = from; c < to; c++) { const w = src[c * rows + r]!; if (w < min) min = w; if (w > max) max = w; }
      const { scale, zero } = fit(min, max, Math.max(Math.abs(min), Math.abs(max)));
      sc[r] = scale; ze[r] = zero;
    }
    return { sc, ze };
  };
  const rowParams = gs === -1 ? fitColumns(Wc, 0, cols) : undefined; // before dead columns, as upstream

  const H = Float64Array.from(hessian);
  for (let i = 0; i < cols; i++) {
    if (H[i * cols + i] === 0) { H[i * cols + i] = 1; Wc.fill(0, i * rows, (i + 1) * rows); }
  }
  const staticParams = staticGroups && gs !== -1
    ? Array.from({ length: G }, (_, g) => fitColumns(Wc, g * gs, Math.min((g + 1) * gs, cols))) : undefined;

  const diag = new Float64Array(cols);
  for (let i = 0; i < cols; i++) diag[i] = H[i * cols + i]!;
  const perm = actorder ? descendingOrder(diag) : Int32Array.from({ length: cols }, (_, i) => i);
  // W, U and the block's working copy and errors live in wasm memory for the f64x2 updates
  const wasm = F64Wasm.get();
  wasm.reset();
  const nb = Math.min(bs, cols);
  const at = {
    W: wasm.alloc(rows * cols), U: wasm.alloc(cols * cols), W1: wasm.alloc(nb * rows), E1: wasm.alloc(nb * rows),
    H: wasm.alloc(cols * cols + 2), scratch: wasm.alloc(choleskyScratch(cols)),
  };
  const W = wasm.f64(at.W, rows * cols); // permuted, column-major
  const Hp = wasm.f64(at.H, cols * cols + 2).fill(0);
  let mean = 0;
  for (let i = 0; i < cols; i++) {
    W.set(Wc.subarray(perm[i]! * rows, (perm[i]! + 1) * rows), i * rows);
    for (let j = 0; j < cols; j++) Hp[i * cols + j] = H[perm[i]! * cols + perm[j]!]!;
    mean += diag[i]!;
  }
  mean = (damp * mean) / cols;
  for (let i = 0; i < cols; i++) Hp[i * cols + i] += mean;
  upperCholeskyOfInverseWasm(wasm, cols, at.H, at.U, at.scratch);
  const U = wasm.f64(at.U, cols * cols);
  const W1all = wasm.f64(at.W1, nb * rows), Err1all = wasm.f64(at.E1, nb * rows);

  const codes = new Uint8Array(rows * cols), dq = new Float32Array(rows * cols);
  const scales = new Float32Array(G * rows), zeros = new Uint16Array(G * rows);
  if (rowParams) for (let r = 0; r < rows; r++) { scales[r] = rowParams.sc[r]!; zeros[r] = rowParams.ze[r]!; }
  if (staticParams) staticParams.forEach((p, g) => { for (let r = 0; r < rows; r++) { scales[g * rows + r] = p.sc[r]!; zeros[g * rows + r] = p.ze[r]!; } });
  const gIdx = new Int32Array(cols);
  let loss = 0;
  let cur = rowParams ?? { sc: new Float64Array(rows), ze: new Float64Array(rows) };
  for (let i1 = 0; i1 < cols; i1 += bs) {
    const i2 = Math.min(i1 + bs, cols), n = i2 - i1;
    const W1 = W1all.subarray(0, n * rows); // the block's working copy; global W keeps block-start values
    W1.set(W.subarray(i1 * rows, i2 * rows));
    const Err1 = Err1all.subarray(0, n * rows);
    for (let i = 0; i < n; i++) {
      const j = i1 + i; // processing position
      if (gs !== -1) {
        if (staticParams) cur = staticParams[Math.floor(perm[j]! / gs)]!;
        else if (j % gs === 0) {
          cur = fitColumns(W, j, Math.min(j + gs, cols)); // global W: upstream's quirk
          const g = j / gs;
          for (let r = 0; r < rows; r++) { scales[g * rows + r] = cur.sc[r]!; zeros[g * rows + r] = cur.ze[r]!; }
        }
        gIdx[perm[j]!] = staticGroups ? Math.floor(perm[j]! / gs) : Math.floor(j / gs);
      }
      const d = U[j * cols + j]!;
      const col = perm[j]!;
      for (let r = 0; r < rows; r++) {
        const w = W1[i * rows + r]!, s = cur.sc[r]!, z = cur.ze[r]!;
        let q = roundHalfEven(w / s) + z;
        q = q < 0 ? 0 : q > maxq ? maxq : q;
        codes[r * cols + col] = q;
        const qv = s * (q - z);
        dq[r * cols + col] = qv;
        const e = (w - qv) / d;
        loss += e * e;
        Err1[i * rows + r] = e;
      }
      // W1[:, i+1:] -= e ⊗ U[j, i1+i+1:i2] (wasm f64x2 over rows: per element w − e·u, the JS order)
      wasm.subOuter(at.W1, rows, i + 1, n, at.E1 + 8 * i * rows, 1, at.U, cols, j, i1);
    }
    // lazy update: W[:, i2:] -= Err1 @ U[i1:i2, i2:], for each column the error columns in order
    wasm.subOuter(at.W, rows, i2, cols, at.E1, n, at.U, cols, i1, 0);
  }
  loss /= 2;
  const avgLoss = opts.nsamples ? loss / opts.nsamples : NaN;
  return { rows, cols, bits: spec.bits, groupSize: gs, groups: G, codes, scales, zeros, gIdx, loss, avgLoss, dequantized: dq };
}
