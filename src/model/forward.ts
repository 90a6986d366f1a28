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
import { loadLayer, outputTensorName, blockTensor, type LayerWeights } from './layer-weights.ts';
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
  /**
   * For a 3-D MoE weight (`ffn_*_exps`): the expert whose rows multiply `x`, which then holds only
   * the tokens routed to it (llama-imatrix collects such weights per expert from GGML_OP_MUL_MAT_ID).
   */
  expert?: number;
  nExperts?: number;
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
  const x = await embedTokens(model, batch.tokens);
  const block = await BlockRunner.create(model, batch.nSeq, batch.nTok);
  for (let il = 0; il < hp.nLayer; il++) {
    if (ctx.signal?.aborted) throw new CancelledError();
    await block.run(il, await loadLayer(model, il), x, ctx);
    yield { type: 'layer', layer: il, nLayer: hp.nLayer };
  }
  return finalNorm(model, x);
}

/** The token embeddings of `tokens` (nTokens × n_embd), scaled by √n_embd where the arch does (Gemma). */
export async function embedTokens(model: ModelWeights, tokens: Int32Array): Promise<Float32Array> {
  const x = await model.gatherRows('token_embd.weight', tokens);
  if (model.hparams.facts.embedScale) scaleInPlace(x, Math.sqrt(model.hparams.nEmbd)); // ggml_scale(inpL, sqrtf(n_embd))
  return x;
}

/** output_norm over the residual stream, in place; returns it. */
export async function finalNorm(model: ModelWeights, x: Float32Array): Promise<Float32Array> {
  const hp = model.hparams;
  rmsNorm(x, x.length / hp.nEmbd, hp.nEmbd, await model.vector('output_norm.weight'), hp.eps, x);
  return x;
}

/**
 * One decoder block over nSeq sequences of nTok tokens, with its per-token temporaries allocated
 * once. `run` is the whole block (norms and residuals); `attention` and `ffn` are its two halves
 * from an already-normed input to the projection's output, which AWQ's scale search re-runs with
 * candidate weights. The layer's weights are passed in, so calibration can substitute quantized ones.
 */
export class BlockRunner {
  readonly T: number;
  private readonly cur: Float32Array;
  private readonly q: Float32Array;
  private readonly k: Float32Array;
  private readonly v: Float32Array;
  private readonly attn: Float32Array;
  private readonly gate: Float32Array;
  private readonly up: Float32Array;
  private readonly qkv?: Float32Array;
  private readonly gateUp?: Float32Array;
  private readonly positions: Int32Array;

  private constructor(readonly model: ModelWeights, readonly nSeq: number, readonly nTok: number, private readonly ropeFreqs: Float32Array | undefined) {
    const hp = model.hparams;
    const T = (this.T = nSeq * nTok);
    const { qDim, kDim, vDim } = this.dims();
    this.cur = new Float32Array(T * hp.nEmbd);
    this.q = new Float32Array(T * qDim);
    this.k = new Float32Array(T * kDim);
    this.v = new Float32Array(T * vDim);
    this.attn = new Float32Array(T * hp.nHead * hp.headDimV);
    this.gate = new Float32Array(T * hp.nFf);
    this.up = new Float32Array(T * hp.nFf);
    if (hp.facts.fused) {
      this.qkv = new Float32Array(T * (qDim + kDim + vDim));
      this.gateUp = new Float32Array(T * 2 * hp.nFf);
    }
    this.positions = new Int32Array(T).map((_, i) => i % nTok);
  }

  static async create(model: ModelWeights, nSeq: number, nTok: number): Promise<BlockRunner> {
    const ropeFreqs = model.hparams.facts.ropeFreqs && model.has('rope_freqs.weight') ? await model.vector('rope_freqs.weight') : undefined;
    return new BlockRunner(model, nSeq, nTok, ropeFreqs);
  }

  private dims() {
    const hp = this.model.hparams;
    return { qDim: hp.nHead * hp.headDimK, kDim: hp.nHeadKv * hp.headDimK, vDim: hp.nHeadKv * hp.headDimV };
  }

  /** Block `il` over the residual stream `x` (T × n_embd), in place. */
  async run(il: number, L: LayerWeights, x: Float32Array, ctx: ForwardContext): Promise<void> {
    const hp = this.model.hparams;
    const { T, cur } = this;
    rmsNorm(x, T, hp.nEmbd, L.attnNorm, hp.eps, cur);
    await this.attention(il, L, cur, cur, ctx);
    if (L.attnPostNorm) rmsNorm(cur, T, hp.nEmbd, L.attnPostNorm, hp.eps, cur);
    addInPlace(x, cur);
    rmsNorm(x, T, hp.nEmbd, L.ffnNorm, hp.eps, cur);
    await this.ffn(il, L, cur, cur, ctx);
    if (L.ffnPostNorm) rmsNorm(cur, T, hp.nEmbd, L.ffnPostNorm, hp.eps, cur);
    addInPlace(x, cur);
  }

  /** Self-attention from the normed input `xn` (T × n_embd) to attn_output's result in `out` (may be xn). */
  async attention(il: number, L: LayerWeights, xn: Float32Array, out: Float32Array, ctx: ForwardContext): Promise<void> {
    const hp = this.model.hparams;
    const { T, q, k, v, attn, nSeq, nTok } = this;
    const { qDim, kDim, vDim } = this.dims();
    const name = (s: string) => blockTensor(il, `${s}.weight`);
    if (hp.facts.fused) {
      // Phi-3: one attn_qkv product per token, its rows q, then k, then v (llama.cpp views it the same way).
      await this.mm(name('attn_qkv'), il, xn, L.wq, this.qkv!, ctx);
      splitRows(this.qkv!, T, [q, k, v], [qDim, kDim, vDim]);
    } else {
      await this.mm(name('attn_q'), il, xn, L.wq, q, ctx, L.bq);
      await this.mm(name('attn_k'), il, xn, L.wk, k, ctx, L.bk);
      await this.mm(name('attn_v'), il, xn, L.wv, v, ctx, L.bv);
    }
    // Qwen3: each head's q and k RMS-normed (weights over head_dim) before rope, as llama.cpp's qwen3 graph.
    if (L.qNorm) rmsNorm(q, T * hp.nHead, hp.headDimK, L.qNorm, hp.eps, q);
    if (L.kNorm) rmsNorm(k, T * hp.nHeadKv, hp.headDimK, L.kNorm, hp.eps, k);
    // Local (sliding-window) layers rotate with their own base (llama_model::get_rope_freq_base).
    const swa = hp.swaLayers[il] === true;
    const ropeOpts = { mode: hp.facts.rope, base: swa ? hp.ropeBaseSwa : hp.ropeBase, nRot: hp.nRot, freqFactors: this.ropeFreqs, freqScale: hp.ropeFreqScale };
    rope(q, T, hp.nHead, hp.headDimK, this.positions, ropeOpts);
    rope(k, T, hp.nHeadKv, hp.headDimK, this.positions, ropeOpts);
    const scale = Math.fround(1 / Math.fround(Math.sqrt(hp.headDimK)));
    const preScaleQ = hp.facts.attnScale === 'q-rsqrt-head-dim';
    if (preScaleQ) scaleInPlace(q, scale); // Gemma: ggml_scale(Qcur, f_attention_scale), kq_scale 1
    const attnOpts = { softcap: hp.attnSoftcap || undefined, window: swa ? hp.nSwa : undefined };
    for (let s = 0; s < nSeq; s++) {
      const seq = (a: Float32Array, dim: number) => a.subarray(s * nTok * dim, (s + 1) * nTok * dim);
      await ctx.engine.attention(seq(q, qDim), seq(k, kDim), seq(v, vDim), nTok, hp.nHead, hp.nHeadKv, hp.headDimK, preScaleQ ? 1 : scale, seq(attn, hp.nHead * hp.headDimV), attnOpts);
    }
    await this.mm(name('attn_output'), il, attn, L.wo, out, ctx, L.bo);
  }

  /** The feed-forward (dense or MoE) from the normed input `xn` to ffn_down's result in `out` (may be xn). */
  async ffn(il: number, L: LayerWeights, xn: Float32Array, out: Float32Array, ctx: ForwardContext): Promise<void> {
    const hp = this.model.hparams;
    const { T, gate, up } = this;
    const name = (s: string) => blockTensor(il, `${s}.weight`);
    if (L.moe) {
      if (ctx.observer) await ctx.observer({ tensor: name('ffn_gate_inp'), layer: il, x: xn, nTokens: T, cols: hp.nEmbd });
      const obs = ctx.observer;
      const observe = obs && ((tensor: string, expert: number, x: Float32Array, nTokens: number, cols: number) => obs({ tensor: name(tensor), layer: il, x, nTokens, cols, expert, nExperts: hp.nExpert }));
      await moeFfn(ctx.engine, xn, T, hp.nEmbd, L.moe, hp.nExpert, hp.nExpertUsed, hp.facts.moe!.normWeights, out, observe);
      return;
    }
    if (hp.facts.fused) {
      // Phi-3: ffn_up holds gate rows then up rows; swiglu over the two halves.
      await this.mm(name('ffn_up'), il, xn, L.up!, this.gateUp!, ctx);
      splitRows(this.gateUp!, T, [gate, up], [hp.nFf, hp.nFf]);
    } else {
      await this.mm(name('ffn_gate'), il, xn, L.gate!, gate, ctx, L.bGate);
      await this.mm(name('ffn_up'), il, xn, L.up!, up, ctx, L.bUp);
    }
    (hp.facts.ffn === 'gelu-gated' ? geluMul : siluMul)(gate, up, gate);
    await this.mm(name('ffn_down'), il, gate, L.down!, out, ctx, L.bDown);
  }

  private async mm(name: string, il: number, input: Float32Array, w: WeightMatrix, out: Float32Array, ctx: ForwardContext, bias?: Float32Array): Promise<void> {
    if (ctx.observer) await ctx.observer({ tensor: name, layer: il, x: input, nTokens: this.T, cols: w.cols });
    await ctx.engine.matmul(input, this.T, w, out, bias);
  }
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
