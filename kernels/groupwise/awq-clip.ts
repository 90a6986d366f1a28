/**
 * AutoAWQ `AwqQuantizer._compute_best_clip` (llm-awq `auto_clip_layer`): per (output row, group),
 * the symmetric clip range that best preserves the group's partial dot products with the inputs.
 *   x: the layer's inputs, every step-th token (step = max(1, n_tokens // n_sample_token))
 *   org[t] = Σ_{k in group} x[t, k] · w[k]
 *   for i in 0 .. int(max_shrink · n_grid) - 1:
 *     mv = max|w of the group| · (1 - i / n_grid)
 *     err = mean over t of (Σ x[t, k] · Q(clamp(w, -mv, mv))[k] - org[t])²
 *   keep the mv with the smallest err (strictly smaller than the best so far, starting from 1e9)
 * Upstream walks the output rows in batches of 256 (or 64) only to bound GPU memory (and asserts
 * rows divide by the batch); every (row, group) is independent, so walking group by group and
 * row by row gives the same result for any row count. Dot products are summed in float64.
 *
 * Speed: with d = Q(clamp(w)) - w, err = dᵀ (XᵀX / n) d. When a group is narrower than the sampled
 * token count we form the group's Gram matrix once and score each candidate in gs² instead of
 * n·gs operations (the same sum, reassociated). The quadratic forms of 64 rows × every shrink step
 * run in one wasm call (quadFormPairsF64: f64x2 lanes are two candidates, each summed in the JS
 * loop's order, so the same bits).
 */
import { maxCode, groupCount, type GroupwiseSpec } from './spec.ts';
import { awqFit } from './rtn-awq.ts';
import { pseudoQuantizeRange } from './awq-pseudo.ts';
import { F64Wasm } from './wasm-f64.ts';

export interface ClipOptions {
  nGrid?: number;
  maxShrink?: number;
  nSampleToken?: number;
}

export interface ClipResult {
  /** The chosen clip value per (row, group), `[rows, G]` row-major (upstream's best_max_val). */
  maxVal: Float32Array;
  /** Mean over (row, group) of the chosen err: the module's clip loss. */
  loss: number;
  /** The same mean without clipping (i = 0), for comparison. */
  lossUnclipped: number;
}

/** The token rows auto_clip samples: 0, step, 2·step, … (torch `[:, ::step]`). */
export function clipSampleTokens(nTokens: number, nSampleToken = 512): number[] {
  const step = Math.max(1, Math.floor(nTokens / nSampleToken));
  const out: number[] = [];
  for (let t = 0; t < nTokens; t += step) out.push(t);
  return out;
}

/** Search the clip values of `weight` (`[rows, cols]`) against inputs `x` (`[nTokens, cols]`). */
export function awqClipSearch(weight: Float32Array, rows: number, cols: number, x: Float32Array, nTokens: number, spec: GroupwiseSpec, opts: ClipOptions = {}): ClipResult {
  if (weight.length !== rows * cols) throw new RangeError(`weight has ${weight.length} values, expected ${rows}x${cols}`);
  if (x.length < nTokens * cols) throw new RangeError(`inputs hold ${x.length} values, expected ${nTokens}x${cols}`);
  const nGrid = opts.nGrid ?? 20;
  const steps = Math.trunc((opts.maxShrink ?? 0.5) * nGrid);
  const tokens = clipSampleTokens(nTokens, opts.nSampleToken ?? 512);
  const nS = tokens.length;
  const gs = spec.groupSize === -1 ? cols : spec.groupSize;
  const G = groupCount(spec.groupSize, cols);
  const fit = awqFit(spec);
  const maxq = maxCode(spec.bits);
  const maxVal = new Float32Array(rows * G);
  let lossSum = 0, unclippedSum = 0;
  const xg = new Float32Array(nS * gs);
  const org = new Float64Array(nS);
  const w = new Float32Array(gs);
  const q = new Float32Array(gs);
  // the Gram path scores CHUNK rows' candidates per wasm call (rows × steps quadratic forms)
  const wasm = F64Wasm.get();
  const CHUNK = 64;
  const nCand = CHUNK * steps;
  const mvs = new Float32Array(nCand);
  const rowMax = new Float32Array(CHUNK);
  for (let g = 0; g < G; g++) {
    const c0 = g * gs, wg = Math.min(gs, cols - c0);
    for (let i = 0; i < nS; i++) xg.set(x.subarray(tokens[i]! * cols + c0, tokens[i]! * cols + c0 + wg), i * wg);
    const useGram = wg <= nS;
    let gram: Float64Array | undefined, dd: Float64Array | undefined, errs: Float64Array | undefined;
    let gramAt = 0, ddAt = 0, outAt = 0;
    if (useGram) {
      wasm.reset();
      gramAt = wasm.alloc(wg * wg);
      ddAt = wasm.alloc((nCand + 1) * wg);
      outAt = wasm.alloc(nCand + 1);
      gram = wasm.f64(gramAt, wg * wg);
      dd = wasm.f64(ddAt, (nCand + 1) * wg);
      errs = wasm.f64(outAt, nCand + 1);
      gram.fill(0);
      for (let i = 0; i < nS; i++) {
        const o = i * wg;
        for (let a = 0; a < wg; a++) {
          const xa = xg[o + a]!;
          for (let b = a; b < wg; b++) gram[a * wg + b] += xa * xg[o + b]!;
        }
      }
      for (let a = 0; a < wg; a++) for (let b = a; b < wg; b++) gram[b * wg + a] = gram[a * wg + b] = gram[a * wg + b]! / nS;
    }
    for (let r0 = 0; r0 < rows; r0 += useGram ? CHUNK : 1) {
      const r1 = Math.min(rows, r0 + (useGram ? CHUNK : 1));
      if (useGram) {
        // candidates c = (r - r0)·steps + s, two per f64x2 pair: d of c at dd[(c >> 1)·2·wg + 2k + (c & 1)]
        let c = 0;
        for (let r = r0; r < r1; r++) {
          let orgMax = 0;
          for (let k = 0; k < wg; k++) {
            w[k] = weight[r * cols + c0 + k]!;
            orgMax = Math.max(orgMax, Math.abs(w[k]!));
          }
          rowMax[r - r0] = orgMax;
          for (let s = 0; s < steps; s++, c++) {
            const mv = Math.fround(orgMax * (1 - s / nGrid));
            mvs[c] = mv;
            for (let k = 0; k < wg; k++) q[k] = w[k]! < -mv ? -mv : w[k]! > mv ? mv : w[k]!;
            pseudoQuantizeRange(q, q, 0, wg, fit, maxq);
            const o = (c >> 1) * 2 * wg + (c & 1);
            for (let k = 0; k < wg; k++) dd![o + 2 * k] = q[k]! - w[k]!;
          }
        }
        if (c & 1) for (let k = 0; k < wg; k++) dd![(c >> 1) * 2 * wg + 2 * k + 1] = 0;
        wasm.quadFormPairs(gramAt, wg, ddAt, (c + 1) >> 1, outAt);
        c = 0;
        for (let r = r0; r < r1; r++) {
          let best = rowMax[r - r0]!, minErr = 1e9;
          for (let s = 0; s < steps; s++, c++) {
            const err = errs![c]!;
            if (s === 0) unclippedSum += err;
            if (err < minErr) {
              minErr = err;
              best = mvs[c]!;
            }
          }
          maxVal[r * G + g] = best;
          lossSum += minErr;
        }
        continue;
      }
      const r = r0;
      let orgMax = 0;
      for (let k = 0; k < wg; k++) {
        w[k] = weight[r * cols + c0 + k]!;
        orgMax = Math.max(orgMax, Math.abs(w[k]!));
      }
      for (let i = 0; i < nS; i++) {
        let dot = 0;
        for (let k = 0; k < wg; k++) dot += xg[i * wg + k]! * w[k]!;
        org[i] = dot;
      }
      let best = orgMax, minErr = 1e9;
      for (let s = 0; s < steps; s++) {
        const mv = Math.fround(orgMax * (1 - s / nGrid));
        for (let k = 0; k < wg; k++) q[k] = w[k]! < -mv ? -mv : w[k]! > mv ? mv : w[k]!;
        pseudoQuantizeRange(q, q, 0, wg, fit, maxq);
        let err = 0;
        for (let i = 0; i < nS; i++) {
          let dot = 0;
          for (let k = 0; k < wg; k++) dot += xg[i * wg + k]! * q[k]!;
          err += (dot - org[i]!) ** 2;
        }
        err /= nS;
        if (s === 0) unclippedSum += err;
        if (err < minErr) {
          minErr = err;
          best = mv;
        }
      }
      maxVal[r * G + g] = best;
      lossSum += minErr;
    }
  }
  return { maxVal, loss: lossSum / (rows * G), lossUnclipped: unclippedSum / (rows * G) };
}

/** AutoAWQ `apply_clip`: clamp every (row, group) of `weight` to [-maxVal, maxVal], in place. */
export function applyAwqClip(weight: Float32Array, rows: number, cols: number, groupSize: number, maxVal: Float32Array): void {
  const gs = groupSize === -1 ? cols : groupSize;
  const G = groupCount(groupSize, cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const mv = maxVal[r * G + Math.floor(c / gs)]!;
      const k = r * cols + c;
      weight[k] = weight[k]! < -mv ? -mv : weight[k]! > mv ? mv : weight[k]!;
    }
  }
}
