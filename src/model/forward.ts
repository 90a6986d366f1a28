/**
 * The decoder forward (llama.cpp's llm_build_llama / llm_build_qwen2), layer-streamed: every
 * sequence of a pass goes through block 0, then block 1, …, so only one block's weights are in
 * memory; the residual stream of all sequences is what lives across blocks. What differs between
 * architectures (rope ordering, biases, tied output) is read from the architecture table's
 * `forward` column, never branched on by name.
 *
 * Matmuls batch all tokens of the pass (one weight read per pass); attention runs per sequence.
 */
import { CancelledError } from '../../formats/errors.ts';
import { rmsNorm, rope, siluMul, geluMul, addInPlace, type MatmulEngine } from '../../kernels/forward/index.ts';
import type { ModelWeights, WeightMatrix } from './weights.ts';
import { loadLayer, outputTensorName, blockTensor } from './layer-weights.ts';
import { moeFfn } from './moe-ffn.ts';

/** What a matmul is about to read: the foundation for imatrix collection and AWQ/GPTQ calibration. */
export interface MatmulInput {
  /** GGUF name of the weight (`blk.3.attn_q.weight`, `output.weight`). */
  tensor: string;
  /** Block index, or -1 for the output head. */
  layer: number;
  /** nTokens × cols activations (do not keep a reference: the buffer is reused). */
  x: Float32Array;
  nTokens: number;
  cols: number;
}
export type MatmulObserver = (input: MatmulInput) => void | Promise<void>;

/** nSeq sequences of nTok tokens each, back to back; each starts at position 0. */
export interface TokenBatch {
  tokens: Int32Array;
  nSeq: number;
  nTok: number;
}

export interface ForwardContext {
  engine: MatmulEngine;
  observer?: MatmulObserver;
  signal?: AbortSignal;
}

export interface LayerDone {
  type: 'layer';
  layer: number;
  nLayer: number;
}

/**
 * Embeds the batch and runs every block; returns the final-normed hidden states
 * (nSeq·nTok × n_embd), ready for the output head.
 */
export async function* runDecoder(model: ModelWeights, batch: TokenBatch, ctx: ForwardContext): AsyncGenerator<LayerDone, Float32Array> {
  const hp = model.hparams;
  const { nSeq, nTok } = batch;
  const T = nSeq * nTok;
  const qDim = hp.nHead * hp.headDimK;
  const kDim = hp.nHeadKv * hp.headDimK;
  const vDim = hp.nHeadKv * hp.headDimV;
  const x = await model.gatherRows('token_embd.weight', batch.tokens);
  if (hp.facts.embedScale) scaleInPlace(x, Math.sqrt(hp.nEmbd)); // ggml_scale(inpL, sqrtf(n_embd))
  const cur = new Float32Array(T * hp.nEmbd);
  const q = new Float32Array(T * qDim);
  const k = new Float32Array(T * kDim);
  const v = new Float32Array(T * vDim);
  const attn = new Float32Array(T * hp.nHead * hp.headDimV);
  const gate = new Float32Array(T * hp.nFf);
  const up = new Float32Array(T * hp.nFf);
  const qkv = hp.facts.fused ? new Float32Array(T * (qDim + kDim + vDim)) : undefined;
  const gateUp = hp.facts.fused ? new Float32Array(T * 2 * hp.nFf) : undefined;
  const positions = new Int32Array(T).map((_, i) => i % nTok);
  const ropeFreqs = hp.facts.ropeFreqs && model.has('rope_freqs.weight') ? await model.vector('rope_freqs.weight') : undefined;
  const ropeOpts = { mode: hp.facts.rope, base: hp.ropeBase, nRot: hp.nRot, freqFactors: ropeFreqs, freqScale: hp.ropeFreqScale };
  const scale = Math.fround(1 / Math.fround(Math.sqrt(hp.headDimK)));
  const preScaleQ = hp.facts.attnScale === 'q-rsqrt-head-dim';
  const mm = async (name: string, il: number, input: Float32Array, w: WeightMatrix, out: Float32Array, bias?: Float32Array) => {
    if (ctx.observer) await ctx.observer({ tensor: name, layer: il, x: input, nTokens: T, cols: w.cols });
    await ctx.engine.matmul(input, T, w, out, bias);
  };

  for (let il = 0; il < hp.nLayer; il++) {
    if (ctx.signal?.aborted) throw new CancelledError();
    const L = await loadLayer(model, il);
    const name = (s: string) => blockTensor(il, `${s}.weight`);
    rmsNorm(x, T, hp.nEmbd, L.attnNorm, hp.eps, cur);
    if (hp.facts.fused) {
      // Phi-3: one attn_qkv product per token, its rows q, then k, then v (llama.cpp views it the same way).
      await mm(name('attn_qkv'), il, cur, L.wq, qkv!);
      splitRows(qkv!, T, [q, k, v], [qDim, kDim, vDim]);
    } else {
      await mm(name('attn_q'), il, cur, L.wq, q, L.bq);
      await mm(name('attn_k'), il, cur, L.wk, k, L.bk);
      await mm(name('attn_v'), il, cur, L.wv, v, L.bv);
    }
    // Qwen3: each head's q and k RMS-normed (weights over head_dim) before rope, as llama.cpp's qwen3 graph.
    if (L.qNorm) rmsNorm(q, T * hp.nHead, hp.headDimK, L.qNorm, hp.eps, q);
    if (L.kNorm) rmsNorm(k, T * hp.nHeadKv, hp.headDimK, L.kNorm, hp.eps, k);
    // Local (sliding-window) layers rotate with their own base (llama_model::get_rope_freq_base).
    const swa = hp.swaLayers[il] === true;
    const layerRope = swa ? { ...ropeOpts, base: hp.ropeBaseSwa } : ropeOpts;
    rope(q, T, hp.nHead, hp.headDimK, positions, layerRope);
    rope(k, T, hp.nHeadKv, hp.headDimK, positions, layerRope);
    if (preScaleQ) scaleInPlace(q, scale); // Gemma: ggml_scale(Qcur, f_attention_scale), kq_scale 1
    const attnOpts = { softcap: hp.attnSoftcap || undefined, window: swa ? hp.nSwa : undefined };
    for (let s = 0; s < nSeq; s++) {
      const seq = (a: Float32Array, dim: number) => a.subarray(s * nTok * dim, (s + 1) * nTok * dim);
      await ctx.engine.attention(seq(q, qDim), seq(k, kDim), seq(v, vDim), nTok, hp.nHead, hp.nHeadKv, hp.headDimK, preScaleQ ? 1 : scale, seq(attn, hp.nHead * hp.headDimV), attnOpts);
    }
    await mm(name('attn_output'), il, attn, L.wo, cur, L.bo);
    if (L.attnPostNorm) rmsNorm(cur, T, hp.nEmbd, L.attnPostNorm, hp.eps, cur);
    addInPlace(x, cur);
    rmsNorm(x, T, hp.nEmbd, L.ffnNorm, hp.eps, cur);
    if (L.moe) {
      if (ctx.observer) await ctx.observer({ tensor: name('ffn_gate_inp'), layer: il, x: cur, nTokens: T, cols: hp.nEmbd });
      await moeFfn(ctx.engine, cur, T, hp.nEmbd, L.moe, hp.nExpert, hp.nExpertUsed, hp.facts.moe!.normWeights, cur);
    } else {
      if (hp.facts.fused) {
        // Phi-3: ffn_up holds gate rows then up rows; swiglu over the two halves.
        await mm(name('ffn_up'), il, cur, L.up!, gateUp!);
        splitRows(gateUp!, T, [gate, up], [hp.nFf, hp.nFf]);
      } else {
        await mm(name('ffn_gate'), il, cur, L.gate!, gate, L.bGate);
        await mm(name('ffn_up'), il, cur, L.up!, up, L.bUp);
      }
      (hp.facts.ffn === 'gelu-gated' ? geluMul : siluMul)(gate, up, gate);
      await mm(name('ffn_down'), il, gate, L.down!, cur, L.bDown);
    }
    if (L.ffnPostNorm) rmsNorm(cur, T, hp.nEmbd, L.ffnPostNorm, hp.eps, cur);
    addInPlace(x, cur);
    yield { type: 'layer', layer: il, nLayer: hp.nLayer };
  }
  rmsNorm(x, T, hp.nEmbd, await model.vector('output_norm.weight'), hp.eps, x);
  return x;
}

/** ggml_scale: a[i] = a[i] · (float)s. */
function scaleInPlace(a: Float32Array, s: number): void {
  const f = Math.fround(s);
  for (let i = 0; i < a.length; i++) a[i] = a[i]! * f;
}

/** Cut each token's row of `src` into consecutive pieces of the given widths, one destination each. */
function splitRows(src: Float32Array, nTokens: number, dst: Float32Array[], widths: number[]): void {
  const total = widths.reduce((a, b) => a + b, 0);
  for (let t = 0; t < nTokens; t++) {
    let off = t * total;
    for (let i = 0; i < dst.length; i++) {
      dst[i]!.set(src.subarray(off, off + widths[i]!), t * widths[i]!);
      off += widths[i]!;
    }
  }
}

/** The logits matrix of a model, loaded once per pass and applied one sequence at a time. */
export class OutputHead {
  private constructor(readonly model: ModelWeights, readonly name: string, private readonly w: WeightMatrix) {}

  static async load(model: ModelWeights): Promise<OutputHead> {
    const name = outputTensorName(model);
    return new OutputHead(model, name, await model.matrix(name));
  }

  get nVocab(): number {
    return this.w.rows;
  }

  /** Logits (nTok × n_vocab) of sequence `seq` of a pass's final hidden states, into `out`. */
  async logits(hidden: Float32Array, seq: number, nTok: number, ctx: ForwardContext, out: Float32Array): Promise<void> {
    const d = this.model.hparams.nEmbd;
    const x = hidden.subarray(seq * nTok * d, (seq + 1) * nTok * d);
    if (ctx.observer) await ctx.observer({ tensor: this.name, layer: -1, x, nTokens: nTok, cols: d });
    const logits = out.subarray(0, nTok * this.w.rows);
    await ctx.engine.matmul(x, nTok, this.w, logits);
    // Final logit soft-capping: ggml_scale(1/cap), ggml_tanh, ggml_scale(cap), each in float.
    const cap = Math.fround(this.model.hparams.finalSoftcap);
    if (cap > 0) {
      const inv = Math.fround(1 / cap);
      for (let i = 0; i < logits.length; i++) logits[i] = Math.fround(cap * Math.fround(Math.tanh(Math.fround(logits[i]! * inv))));
    }
  }
}
