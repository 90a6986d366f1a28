/**
 * The calibration's memory plan (README "Calibration memory"): what lives across the whole run
 * (the residual stream of every sample), what one layer needs (its weights as loaded, the
 * quantized copy the next forward runs on, the method's statistics and solver temporaries), and
 * what grows with the samples of one forward sub-batch (the block's per-token temporaries and a
 * working copy of the sub-batch's inputs). `--max-memory` caps the sub-batch; a budget that does
 * not fit one sample next to one layer is a typed error.
 */
import { totalmem } from 'node:os';
import { UsageError } from '../../formats/errors.ts';
import type { ModelWeights } from '../model/weights.ts';
import { layerBytes } from '../model/layer-weights.ts';
import { blockTempBytesPerToken } from '../model/memory-plan.ts';
import type { LayerMethod } from './layer-method.ts';

/** Without --max-memory: three quarters of the machine's memory. */
export const defaultCalibMemory = (): number => Math.floor(totalmem() * 0.75);

export interface CalibMemoryPlan {
  /** Samples per forward sub-batch (≥ 1). */
  batch: number;
  /** Residual stream of all samples. */
  residualBytes: number;
  /** One layer: weights twice (loaded + quantized) and the method's working set. */
  layerBytes: number;
  /** Per sample of a sub-batch. */
  perSampleBytes: number;
  /** Estimated peak at `batch`. */
  peakBytes: number;
}

export function planCalibMemory(model: ModelWeights, method: LayerMethod, nSeq: number, nTok: number, maxMemory: number): CalibMemoryPlan {
  const h = model.hparams;
  const residualBytes = 4 * nSeq * nTok * h.nEmbd;
  let maxLayer = 0;
  for (let il = 0; il < h.nLayer; il++) maxLayer = Math.max(maxLayer, layerBytes(model, il));
  const dims = { nEmbd: h.nEmbd, nFf: h.nFf, qDim: h.nHead * h.headDimK, kvDim: h.nHeadKv * h.headDimK, nTokens: nSeq * nTok };
  const layer = 2 * maxLayer + method.workingBytes(dims);
  // per token: the block's temporaries, the sub-batch's working copy of the residual, and the
  // engine's staging of the largest matmul's input and output (about the temporaries again)
  const perSample = nTok * (2 * blockTempBytesPerToken(model) + 4 * h.nEmbd + (method.batchBytesPerToken?.(dims) ?? 0)) + 4 * nTok * nTok;
  const fixed = residualBytes + layer;
  const mib = (b: number) => `${Math.ceil(b / 2 ** 20)} MiB`;
  if (fixed + perSample > maxMemory) {
    throw new UsageError('CALIB_MEMORY',
      `--max-memory ${mib(maxMemory)} is too small for calibration: the residual stream of ${nSeq} × ${nTok} tokens (${mib(residualBytes)}), ` +
      `one layer with the ${method.name} working set (${mib(layer)}) and one sample's forward (${mib(perSample)}) need ${mib(fixed + perSample)}; ` +
      'raise --max-memory or lower --calib-samples / --calib-seqlen');
  }
  const batch = Math.max(1, Math.min(nSeq, Math.floor((maxMemory - fixed) / perSample)));
  return { batch, residualBytes, layerBytes: layer, perSampleBytes: perSample, peakBytes: fixed + batch * perSample };
}
