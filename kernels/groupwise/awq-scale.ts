/**
 * AutoAWQ `AwqQuantizer._compute_best_scale`: the grid search for one scaling group. For
 * ratio = 0, 1/n_grid, …, (n_grid-1)/n_grid:
 *   s = clamp(x_mean^ratio / (w_mean^(1-ratio) + 1e-4), min=1e-4)     (duo_scaling, the default)
 *   s = clamp(x_mean^ratio, min=1e-4)                                (duo_scaling=False, llm-awq)
 *   s = s / sqrt(max(s) · min(s));  s[inf | nan] = 1
 *   every scaled linear W -> Q(W · s) / s  (Q = pseudo_quantize_tensor, columns scaled)
 *   loss = mean((y_ref - module2inspect(x))²) over all output elements
 * keeping the first smallest loss. y_ref is module2inspect with the original weights.
 *
 * The module is a callback, so this kernel knows nothing of the forward: it receives candidate
 * weights (one per scaled linear, in order) and returns the module's loss against y_ref
 * (`outputLoss` builds that from a module returning its output; the calibration loop streams it
 * over sub-batches so no second full output is held).
 *
 * fp16: upstream computes s in the model's dtype; with `half` (default) every step of the s
 * formula rounds to fp16 as torch's half ops do. The weights W·s, Q and /s stay float32, exactly
 * what our writer quantizes (it quantizes the float32 scaled weights).
 */
import { roundToHalf } from '../fp16.ts';
import type { GroupwiseSpec } from './spec.ts';
import type { LinearWeight } from './awq-stats.ts';
import { awqPseudoQuantize } from './awq-pseudo.ts';

export const AWQ_N_GRID = 20;

export interface ScaleOptions {
  /** Default true (AutoAWQ); false = x_mean^ratio only (llm-awq). */
  duo?: boolean;
  /** Round each step of the s formula to fp16 as upstream (default true). */
  half?: boolean;
}

/** The candidate scales of one grid ratio. */
export function awqCandidateScales(xMean: Float32Array, wMean: Float32Array, ratio: number, opts: ScaleOptions = {}): Float32Array {
  const duo = opts.duo ?? true;
  const h = opts.half ?? true ? roundToHalf : Math.fround;
  const floor = h(1e-4);
  const n = xMean.length;
  const s = new Float32Array(n);
  for (let c = 0; c < n; c++) {
    const xp = h(Math.pow(xMean[c]!, ratio));
    const v = duo ? h(xp / h(h(Math.pow(wMean[c]!, 1 - ratio)) + floor)) : xp;
    s[c] = Number.isNaN(v) ? v : Math.max(v, floor); // torch.clamp keeps NaN
  }
  let max = -Infinity, min = Infinity, nan = false; // torch max/min propagate NaN
  for (let c = 0; c < n; c++) {
    const v = s[c]!;
    if (Number.isNaN(v)) nan = true;
    else {
      if (v > max) max = v;
      if (v < min) min = v;
    }
  }
  const norm = nan ? NaN : h(Math.sqrt(h(max * min)));
  for (let c = 0; c < n; c++) {
    const v = h(s[c]! / norm);
    s[c] = Number.isFinite(v) ? v : 1;
  }
  return s;
}

/** Q(W · s) / s with s over the columns of a `[rows, cols]` weight. */
export function scaledPseudoQuantize(w: LinearWeight, cols: number, s: Float32Array, spec: GroupwiseSpec): Float32Array {
  const out = new Float32Array(w.rows * cols);
  for (let r = 0; r < w.rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = Math.fround(w.data[r * cols + c]! * s[c]!);
  awqPseudoQuantize(out, w.rows, cols, spec, out);
  for (let r = 0; r < w.rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = Math.fround(out[r * cols + c]! / s[c]!);
  return out;
}

/** mean((a - b)²), summed in float64. */
export function meanSquaredError(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new RangeError(`outputs differ in length: ${a.length} vs ${b.length}`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    sum += d * d;
  }
  return sum / a.length;
}

export interface ScaleSearchInput extends ScaleOptions {
  xMean: Float32Array;
  wMean: Float32Array;
  /** The linears scaled together (q,k,v / gate,up / o / down), each `[rows, cols]`. */
  linears: readonly LinearWeight[];
  cols: number;
  spec: GroupwiseSpec;
  /**
   * module2inspect's loss with these weights in place of the linears (same order): the mean
   * squared difference of its output from its output with the original weights. Build it from a
   * module that returns its output with `outputLoss`, or stream it over sub-batches.
   */
  loss: (weights: Float32Array[]) => Promise<number>;
  nGrid?: number;
}

export interface ScaleSearchResult {
  /** The best scales (length cols). */
  scales: Float32Array;
  /** The chosen grid ratio. */
  ratio: number;
  /** Loss of plain RTN (s = 1), for the report: what the search improved on. */
  lossBefore: number;
  /** Loss at the chosen ratio. */
  lossAfter: number;
  /** Loss of every grid ratio, in order (upstream's `history`). */
  losses: number[];
}

/**
 * The loss callback of a module that returns its whole output (upstream's `_module_forward`):
 * runs it once with the original weights for y_ref, then scores candidates by `meanSquaredError`.
 */
export async function outputLoss(original: Float32Array[], inspect: (weights: Float32Array[]) => Promise<Float32Array>): Promise<(weights: Float32Array[]) => Promise<number>> {
  const yRef = (await inspect(original)).slice();
  return async (weights) => meanSquaredError(yRef, await inspect(weights));
}

/**
 * The scale vectors the search scores, in upstream's order: s = 1 (plain RTN, for the report's
 * loss before), then ratio 0, 1/n_grid, …. `same[k]` is the index of an earlier identical vector
 * (duo_scaling off gives s = 1 at ratio 0), whose loss candidate k reuses instead of re-running
 * the module: the same weights give the same output.
 */
export function awqScaleCandidates(xMean: Float32Array, wMean: Float32Array, opts: ScaleOptions & { nGrid?: number } = {}): { scales: Float32Array[]; same: number[] } {
  const nGrid = opts.nGrid ?? AWQ_N_GRID;
  const scales: Float32Array[] = [new Float32Array(xMean.length).fill(1)];
  for (let i = 0; i < nGrid; i++) scales.push(awqCandidateScales(xMean, wMean, i / nGrid, opts));
  const equal = (a: Float32Array, b: Float32Array) => a.every((v, i) => Object.is(v, b[i]));
  const same = scales.map((s, k) => scales.findIndex((t, j) => j < k && equal(s, t)));
  return { scales, same };
}

/** Picks the first smallest loss of the grid; `losses[0]` is s = 1's, `losses[1 + i]` ratio i/n_grid's. */
export function chooseAwqScale(scales: readonly Float32Array[], losses: readonly number[]): ScaleSearchResult {
  const nGrid = scales.length - 1;
  let best: { loss: number; ratio: number; scales: Float32Array } = { loss: Infinity, ratio: -1, scales: scales[0]! };
  for (let i = 0; i < nGrid; i++) {
    const loss = losses[1 + i]!;
    if (loss < best.loss) best = { loss, ratio: i / nGrid, scales: scales[1 + i]! };
  }
  const grid = losses.slice(1);
  if (best.ratio === -1) throw new RangeError(`no grid ratio gave a finite loss (losses: ${grid.join(', ')})`);
  return { scales: best.scales, ratio: best.ratio, lossBefore: losses[0]!, lossAfter: best.loss, losses: grid };
}

export async function searchAwqScale(input: ScaleSearchInput): Promise<ScaleSearchResult> {
  const { linears, cols, spec } = input;
  const { scales, same } = awqScaleCandidates(input.xMean, input.wMean, input);
  const losses: number[] = [];
  for (const [k, s] of scales.entries()) losses.push(same[k]! >= 0 ? losses[same[k]!]! : await input.loss(linears.map((l) => scaledPseudoQuantize(l, cols, s, spec))));
  return chooseAwqScale(scales, losses);
}
