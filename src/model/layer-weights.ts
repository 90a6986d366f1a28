/**
 * One decoder block's tensors, loaded together when the forward reaches the block and dropped
 * after it, so a model never has more than one block of weights in memory.
 */
import { FormatError } from '../../formats/errors.ts';
import type { ModelWeights, WeightMatrix } from './weights.ts';
import type { MoeWeights } from './moe-ffn.ts';

export interface LayerWeights {
  attnNorm: Float32Array;
  /** q, k, v projections; for fused archs (Phi-3) wq is attn_qkv and wk/wv are unused (the same matrix). */
  wq: WeightMatrix; wk: WeightMatrix; wv: WeightMatrix; wo: WeightMatrix;
  bq?: Float32Array; bk?: Float32Array; bv?: Float32Array; bo?: Float32Array;
  /** Per-head q/k RMSNorm weights (head_dim floats), for archs whose facts say qkNorm. */
  qNorm?: Float32Array; kNorm?: Float32Array;
  ffnNorm: Float32Array;
  /** Gemma's attn_post_norm and post_ffw_norm (facts.postNorms). */
  attnPostNorm?: Float32Array; ffnPostNorm?: Float32Array;
  /** For fused archs, up is ffn_up (gate rows then up rows) and gate is the same matrix. */
  gate?: WeightMatrix; up?: WeightMatrix; down?: WeightMatrix;
  /** MoE archs: the router and the stacked experts instead of gate/up/down. */
  moe?: MoeWeights;
  bGate?: Float32Array; bUp?: Float32Array; bDown?: Float32Array;
}

/** The tensor names of block `il` (llama.cpp's LLM_TENSOR_* names for llama / qwen2). */
export const blockTensor = (il: number, name: string): string => `blk.${il}.${name}`;

const MATRICES = ['attn_q', 'attn_k', 'attn_v', 'attn_qkv', 'attn_output', 'ffn_gate', 'ffn_up', 'ffn_down', 'ffn_gate_inp', 'ffn_gate_exps', 'ffn_up_exps', 'ffn_down_exps'] as const;

export async function loadLayer(model: ModelWeights, il: number): Promise<LayerWeights> {
  const n = (s: string) => blockTensor(il, s);
  const m = (s: string) => model.matrix(n(`${s}.weight`));
  const optional = (s: string) => (model.has(n(s)) ? model.vector(n(s)) : Promise.resolve(undefined));
  if (model.hparams.facts.qkvBias) {
    for (const b of ['attn_q.bias', 'attn_k.bias', 'attn_v.bias']) {
      if (!model.has(n(b))) throw new FormatError('MISSING_TENSOR', `${model.path}: tensor '${n(b)}' is missing (${model.hparams.arch} has q/k/v biases)`, { file: model.path, tensor: n(b) });
    }
  }
  const fused = model.hparams.facts.fused === true;
  const qkv = fused ? await m('attn_qkv') : undefined;
  const up = fused ? await m('ffn_up') : undefined;
  return {
    attnNorm: await model.vector(n('attn_norm.weight')),
    wq: qkv ?? await m('attn_q'), wk: qkv ?? await m('attn_k'), wv: qkv ?? await m('attn_v'), wo: await m('attn_output'),
    bq: await optional('attn_q.bias'), bk: await optional('attn_k.bias'), bv: await optional('attn_v.bias'), bo: await optional('attn_output.bias'),
    ...(model.hparams.facts.qkNorm ? { qNorm: await model.vector(n('attn_q_norm.weight')), kNorm: await model.vector(n('attn_k_norm.weight')) } : {}),
    ffnNorm: await model.vector(n('ffn_norm.weight')),
    ...(model.hparams.facts.postNorms ? { attnPostNorm: await model.vector(n('post_attention_norm.weight')), ffnPostNorm: await model.vector(n('post_ffw_norm.weight')) } : {}),
    ...(model.hparams.nExpert > 0
      ? { moe: { router: await m('ffn_gate_inp'), gateExps: await m('ffn_gate_exps'), upExps: await m('ffn_up_exps'), downExps: await m('ffn_down_exps') } }
      : { gate: up ?? await m('ffn_gate'), up: up ?? await m('ffn_up'), down: await m('ffn_down') }),
    bGate: await optional('ffn_gate.bias'), bUp: await optional('ffn_up.bias'), bDown: await optional('ffn_down.bias'),
  };
}

/** Bytes block `il` occupies once loaded (for the memory plan). */
export function layerBytes(model: ModelWeights, il: number): number {
  let bytes = 0;
  for (const s of MATRICES) bytes += model.loadedBytes(blockTensor(il, `${s}.weight`));
  for (const s of ['attn_norm.weight', 'ffn_norm.weight', 'attn_q_norm.weight', 'attn_k_norm.weight', 'post_attention_norm.weight', 'post_ffw_norm.weight', 'attn_q.bias', 'attn_k.bias', 'attn_v.bias', 'attn_output.bias']) bytes += 4 * (model.shape(blockTensor(il, s))?.[0] ?? 0);
  return bytes;
}

/** The logits matrix: output.weight, or token_embd.weight when the arch ties them and the file has no output. */
export function outputTensorName(model: ModelWeights): string {
  if (model.has('output.weight')) return 'output.weight';
  if (model.hparams.facts.tiedOutputFallback && model.has('token_embd.weight')) return 'token_embd.weight';
  throw new FormatError('MISSING_TENSOR', `${model.path}: tensor 'output.weight' is missing`, { file: model.path, tensor: 'output.weight' });
}
