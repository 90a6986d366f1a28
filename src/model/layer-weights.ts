/**
 * One decoder block's tensors, loaded together when the forward reaches the block and dropped
 * after it, so a model never has more than one block of weights in memory.
 */
import { FormatError } from '../../formats/errors.ts';
import type { ModelWeights, WeightMatrix } from './weights.ts';

export interface LayerWeights {
  attnNorm: Float32Array;
  wq: WeightMatrix; wk: WeightMatrix; wv: WeightMatrix; wo: WeightMatrix;
  bq?: Float32Array; bk?: Float32Array; bv?: Float32Array; bo?: Float32Array;
  ffnNorm: Float32Array;
  gate: WeightMatrix; up: WeightMatrix; down: WeightMatrix;
  bGate?: Float32Array; bUp?: Float32Array; bDown?: Float32Array;
}

/** The tensor names of block `il` (llama.cpp's LLM_TENSOR_* names for llama / qwen2). */
export const blockTensor = (il: number, name: string): string => `blk.${il}.${name}`;

const MATRICES = ['attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_gate', 'ffn_up', 'ffn_down'] as const;

export async function loadLayer(model: ModelWeights, il: number): Promise<LayerWeights> {
  const n = (s: string) => blockTensor(il, s);
  const m = (s: string) => model.matrix(n(`${s}.weight`));
  const optional = (s: string) => (model.has(n(s)) ? model.vector(n(s)) : Promise.resolve(undefined));
  if (model.hparams.facts.qkvBias) {
    for (const b of ['attn_q.bias', 'attn_k.bias', 'attn_v.bias']) {
      if (!model.has(n(b))) throw new FormatError('MISSING_TENSOR', `${model.path}: tensor '${n(b)}' is missing (${model.hparams.arch} has q/k/v biases)`, { file: model.path, tensor: n(b) });
    }
  }
  return {
    attnNorm: await model.vector(n('attn_norm.weight')),
    wq: await m('attn_q'), wk: await m('attn_k'), wv: await m('attn_v'), wo: await m('attn_output'),
    bq: await optional('attn_q.bias'), bk: await optional('attn_k.bias'), bv: await optional('attn_v.bias'), bo: await optional('attn_output.bias'),
    ffnNorm: await model.vector(n('ffn_norm.weight')),
    gate: await m('ffn_gate'), up: await m('ffn_up'), down: await m('ffn_down'),
    bGate: await optional('ffn_gate.bias'), bUp: await optional('ffn_up.bias'), bDown: await optional('ffn_down.bias'),
  };
}

/** Bytes block `il` occupies once loaded (for the memory plan). */
export function layerBytes(model: ModelWeights, il: number): number {
  let bytes = 0;
  for (const s of MATRICES) bytes += model.loadedBytes(blockTensor(il, `${s}.weight`));
  for (const s of ['attn_norm.weight', 'ffn_norm.weight', 'attn_q.bias', 'attn_k.bias', 'attn_v.bias', 'attn_output.bias']) bytes += 4 * (model.shape(blockTensor(il, s))?.[0] ?? 0);
  return bytes;
}

/** The logits matrix: output.weight, or token_embd.weight when the arch ties them and the file has no output. */
export function outputTensorName(model: ModelWeights): string {
  if (model.has('output.weight')) return 'output.weight';
  if (model.hparams.facts.tiedOutputFallback && model.has('token_embd.weight')) return 'token_embd.weight';
  throw new FormatError('MISSING_TENSOR', `${model.path}: tensor 'output.weight' is missing`, { file: model.path, tensor: 'output.weight' });
}
