/**
 * How many sequences one layer-streamed pass can carry within a memory budget. A pass holds, at
 * its peak, one block's weights (or the output heads), the residual stream of every sequence of
 * every model in the pass, the per-token temporaries of the block being run, and one sequence's
 * logits per model. More sequences per pass means fewer weight reads; the budget caps it.
 */
import type { ModelWeights } from './weights.ts';
import { layerBytes, outputTensorName } from './layer-weights.ts';

/** float32 temporaries per token while a block runs (cur, q, k, v, attention out, gate, up). */
export function blockTempBytesPerToken(m: ModelWeights): number {
  const h = m.hparams;
  return 4 * (h.nEmbd + h.nHead * h.headDimK + h.nHeadKv * (h.headDimK + h.headDimV) + h.nHead * h.headDimV + 2 * h.nFf);
}

export interface PassPlan {
  /** Sequences per pass (≥ 1). */
  seqPerPass: number;
  /** Estimated peak bytes of a pass of seqPerPass sequences. */
  peakBytes: number;
  /** Estimated peak bytes of a single-sequence pass (the least any pass needs). */
  minBytes: number;
}

export function planPasses(models: ModelWeights[], nCtx: number, nSeqMax: number, budgetBytes: number): PassPlan {
  const residual = models.reduce((s, m) => s + 4 * m.hparams.nEmbd, 0) * nCtx;
  const blockFixed = Math.max(...models.map((m) => maxLayerBytes(m)));
  const blockPerSeq = Math.max(...models.map((m) => blockTempBytesPerToken(m))) * nCtx + residual;
  const headFixed = models.reduce((s, m) => s + m.loadedBytes(outputTensorName(m)) + 4 * nCtx * m.hparams.nVocab, 0);
  const peak = (n: number) => Math.max(blockFixed + n * blockPerSeq, headFixed + n * residual);
  let n = 1;
  while (n < nSeqMax && peak(n + 1) <= budgetBytes) n++;
  return { seqPerPass: n, peakBytes: peak(n), minBytes: peak(1) };
}

function maxLayerBytes(m: ModelWeights): number {
  let max = 0;
  for (let il = 0; il < m.hparams.nLayer; il++) max = Math.max(max, layerBytes(m, il));
  return max;
}
