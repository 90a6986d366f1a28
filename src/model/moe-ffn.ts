/**
 * The sparse mixture-of-experts feed-forward (llama-graph's build_moe_ffn with SOFTMAX gating,
 * LLM_FFN_SILU, norm_w as the arch's facts say): router logits = ffn_gate_inp · x; probs =
 * softmax; the n_expert_used largest probs pick the experts (ggml_argsort_top_k); their probs,
 * renormalised to sum 1 (ggml_sum_rows, clamped at 6.103515625e-5, ggml_div), weight each
 * expert's down(silu(gate x) · up x), summed in slot order.
 *
 * The 3-D ffn_*_exps tensors hold one 2-D matrix per expert back to back, so expert e is a
 * WeightMatrix over rows e·rows … (e+1)·rows of the stacked tensor.
 */
import { softmax, siluMul, weightRowBytes, type MatmulEngine } from '../../kernels/forward/index.ts';
import type { WeightMatrix } from './weights.ts';

const F = Math.fround;

export interface MoeWeights {
  router: WeightMatrix;
  gateExps: WeightMatrix; upExps: WeightMatrix; downExps: WeightMatrix;
}

/** Expert `e` of a stacked tensor of `nExpert` experts. */
export function expertSlice(w: WeightMatrix, e: number, nExpert: number): WeightMatrix {
  const rows = w.rows / nExpert;
  const rb = weightRowBytes({ ...w, rows });
  return { type: w.type, rows, cols: w.cols, data: w.data.subarray(e * rows * rb, (e + 1) * rows * rb) };
}

/** For each token, the selected experts (slot order) and their weights. */
export function routeTokens(logits: Float32Array, nTokens: number, nExpert: number, nUsed: number, normWeights: boolean): { ids: Int32Array; weights: Float32Array } {
  const ids = new Int32Array(nTokens * nUsed);
  const weights = new Float32Array(nTokens * nUsed);
  const probs = new Float32Array(nExpert);
  for (let t = 0; t < nTokens; t++) {
    softmax(logits.subarray(t * nExpert, (t + 1) * nExpert), probs, nExpert);
    const order = Array.from({ length: nExpert }, (_, i) => i).sort((a, b) => probs[b]! - probs[a]! || a - b);
    let sum = 0;
    for (let s = 0; s < nUsed; s++) {
      ids[t * nUsed + s] = order[s]!;
      weights[t * nUsed + s] = probs[order[s]!]!;
      sum = F(sum + probs[order[s]!]!);
    }
    if (normWeights) {
      const d = Math.max(sum, 6.103515625e-5);
      for (let s = 0; s < nUsed; s++) weights[t * nUsed + s] = F(weights[t * nUsed + s]! / d);
    }
  }
  return { ids, weights };
}

/** Sees each expert's input before its matmul: the `ffn_*_exps` base name, the expert, its tokens' rows. */
export type ExpertObserver = (tensor: 'ffn_gate_exps' | 'ffn_up_exps' | 'ffn_down_exps', expert: number, x: Float32Array, nTokens: number, cols: number) => void | Promise<void>;

/**
 * out (nTokens × nEmbd) = Σ_slots w · down_e(silu(gate_e x) · up_e x). Each expert runs once on
 * the tokens that chose it (what ggml_mul_mat_id computes, grouped by expert).
 */
export async function moeFfn(engine: MatmulEngine, x: Float32Array, nTokens: number, nEmbd: number, L: MoeWeights, nExpert: number, nUsed: number, normWeights: boolean, out: Float32Array, observe?: ExpertObserver): Promise<void> {
  const logits = new Float32Array(nTokens * nExpert);
  await engine.matmul(x, nTokens, L.router, logits);
  const { ids, weights } = routeTokens(logits, nTokens, nExpert, nUsed, normWeights);
  const nFf = L.gateExps.rows / nExpert;
  // Per-slot expert outputs, so the sum runs in slot order as ggml adds the views.
  const slotOut = new Float32Array(nTokens * nUsed * nEmbd);
  for (let e = 0; e < nExpert; e++) {
    const picks: number[] = [];
    for (let i = 0; i < ids.length; i++) if (ids[i] === e) picks.push(i);
    if (picks.length === 0) continue;
    const n = picks.length;
    const xs = new Float32Array(n * nEmbd);
    picks.forEach((p, j) => xs.set(x.subarray(Math.floor(p / nUsed) * nEmbd, (Math.floor(p / nUsed) + 1) * nEmbd), j * nEmbd));
    const gate = new Float32Array(n * nFf);
    const up = new Float32Array(n * nFf);
    if (observe) {
      await observe('ffn_gate_exps', e, xs, n, nEmbd);
      await observe('ffn_up_exps', e, xs, n, nEmbd);
    }
    await engine.matmul(xs, n, expertSlice(L.gateExps, e, nExpert), gate);
    await engine.matmul(xs, n, expertSlice(L.upExps, e, nExpert), up);
    siluMul(gate, up, gate);
    const down = new Float32Array(n * nEmbd);
    if (observe) await observe('ffn_down_exps', e, gate, n, nFf);
    await engine.matmul(gate, n, expertSlice(L.downExps, e, nExpert), down);
    picks.forEach((p, j) => {
      const w = weights[p]!;
      for (let i = 0; i < nEmbd; i++) slotOut[p * nEmbd + i] = F(down[j * nEmbd + i]! * w);
    });
  }
  for (let t = 0; t < nTokens; t++) {
    for (let i = 0; i < nEmbd; i++) {
      let acc = slotOut[(t * nUsed) * nEmbd + i]!;
      for (let s = 1; s < nUsed; s++) acc = F(acc + slotOut[(t * nUsed + s) * nEmbd + i]!);
      out[t * nEmbd + i] = acc;
    }
  }
}
