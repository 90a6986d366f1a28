/**
 * The contract between the calibration layer loop (loop.ts) and a per-layer method (GPTQ, AWQ).
 *
 * The loop owns the residual stream of all calibration samples (the inputs of the current decoder
 * layer), loads one layer's weights, hands both to the method, then runs the block over all samples
 * with the weights the method returns to produce the next layer's inputs. A method never sees more
 * than one layer, and it runs forwards only through `ctx.forward`, which cuts the samples into
 * sub-batches that fit `--max-memory` and reports progress.
 *
 * Conventions: everything is in the forward's (GGUF / llama.cpp) conventions — module names are the
 * GGUF short names (`attn_q`, `attn_k`, `attn_v`, `attn_output`, `ffn_gate`, `ffn_up`, `ffn_down`),
 * q/k rows are in llama.cpp's order (HF folders are permuted on load; the writer un-permutes the
 * quantized rows), matrices are F32 `WeightMatrix` (type 0) `[rows = out, cols = in]`.
 */
import type { MatmulEngine } from '../../kernels/forward/index.ts';
import type { QuantizedMatrix, GroupwiseSpec } from '../../kernels/groupwise/spec.ts';
import type { ModelWeights } from '../model/weights.ts';
import type { LayerWeights } from '../model/layer-weights.ts';
import type { BlockRunner, MatmulInput } from '../model/forward.ts';
import type { LayerCalibration } from '../pipeline/calib-report.ts';

/** The seven linears of a dense Llama-style block, by GGUF short name. */
export type BlockModule = 'attn_q' | 'attn_k' | 'attn_v' | 'attn_output' | 'ffn_gate' | 'ffn_up' | 'ffn_down';
export const BLOCK_MODULES: readonly BlockModule[] = ['attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_gate', 'ffn_up', 'ffn_down'];

/** Where a forward pass over the samples stops (everything up to and including that matmul's input is computed). */
export type ForwardStop = BlockModule | 'end';

/** The samples of the current sub-batch: sequences [start, start + count) of the calibration set. */
export interface SampleRange {
  start: number;
  count: number;
}

export interface MatmulOutput {
  /** GGUF name of the weight (`blk.3.attn_output.weight`). */
  tensor: string;
  layer: number;
  y: Float32Array;
  nTokens: number;
  rows: number;
}

export interface ForwardPass {
  /** Weights of the block for this pass (the method substitutes its candidates or quantized matrices). */
  weights: LayerWeights;
  /**
   * Called before each matmul of the block with its input for the current sub-batch of samples
   * (`batch` sequences of `nTok` tokens); accumulate statistics (GPTQ's H, AWQ's |x| mean) here.
   * The buffer is reused: copy what must be kept.
   */
  observe?: (input: MatmulInput, batch: SampleRange) => void | Promise<void>;
  /**
   * Called after each matmul with its result (`nTokens × rows`, bias added) for the current
   * sub-batch: AWQ's module2inspect outputs (attn_output = self_attn, ffn_down = mlp). Reused buffer.
   */
  observeOutput?: (output: MatmulOutput, batch: SampleRange) => void | Promise<void>;
  /** Stop the pass once this module's input was observed (default 'end': the whole block). */
  stopAfter?: ForwardStop;
  /** Progress label (the module the pass collects statistics for). */
  label?: string;
  /**
   * Called after each sub-batch's forward, with the runner sized for it: a method works on what it
   * cached from this sub-batch (AWQ re-runs block halves and single linears on cached inputs) before
   * the next sub-batch overwrites it.
   */
  afterBatch?: (batch: SampleRange, runner: BlockRunner) => void | Promise<void>;
  /**
   * Run in place: the block's outputs (with `weights`, stopAfter 'end') become the next layer's
   * inputs, and the method returns `next: undefined` so the loop does not run the block again.
   */
  advance?: boolean;
}

export interface LayerContext {
  model: ModelWeights;
  layer: number;
  nLayer: number;
  /** The layer's weights as loaded (F32, llama.cpp row order); a method must not modify them in place. */
  weights: LayerWeights;
  /** The layer's inputs: the residual stream of all samples, nSeq · nTok × n_embd (read only). */
  inputs: Float32Array;
  nSeq: number;
  nTok: number;
  /** What to quantize to (bits, group size, sym, act-order). */
  spec: GroupwiseSpec;
  /** Modules to quantize in this layer (those the output plan packs; others stay as loaded). */
  modules: ReadonlySet<BlockModule>;
  engine: MatmulEngine;
  /** Runs the block over every sample (in memory-bounded sub-batches) on a copy of `inputs`. */
  forward(pass: ForwardPass): Promise<void>;
  /** Samples per forward sub-batch (the memory plan's): a method that needs all samples' statistics before its per-batch work knows whether one pass suffices. */
  batchSamples: number;
  /** Progress: the method is now working on `module` (shown with layer i/N and the ETA). */
  status(module: string): void;
  signal?: AbortSignal;
}

export interface LayerResult {
  /**
   * The weights the loop runs the block with to produce the next layer's inputs: the quantized
   * ones for GPTQ (§3.1 step 3), the original ones for AWQ (§3.2 step 1). Undefined when the method
   * already advanced the inputs with an `advance` pass.
   */
  next?: LayerWeights;
  /** The integer codes per quantized module (llama.cpp row order), what the writer packs. */
  quantized: Map<BlockModule, QuantizedMatrix>;
  /**
   * The float weights each module's codes approximate, when they are not the loaded ones (AWQ: scaled
   * and clipped), so the round-trip report measures quantization error rather than the scale fold.
   */
  reference?: Map<BlockModule, Float32Array>;
  /** F32 vectors the method changed (AWQ: scaled `attn_norm` / `ffn_norm`), by GGUF short name. */
  vectors?: Map<string, Float32Array>;
  /** Module losses (and AWQ scale groups) for the calibration report. */
  report: Omit<LayerCalibration, 'layer' | 'seconds'>;
}

/** A calibrated quantization method, run by the loop one decoder layer at a time. */
export interface LayerMethod {
  readonly name: 'gptq' | 'awq';
  /**
   * Extra bytes the method holds while working on a layer with these dimensions (statistics such
   * as H, solver temporaries), for the memory plan; the loop adds the residual stream, the layer's
   * weights and the forward's per-token temporaries itself. `nTokens` counts every calibration token
   * (AWQ keeps module2inspect's reference outputs for all of them).
   */
  workingBytes(dims: { nEmbd: number; nFf: number; qDim: number; kvDim: number; nTokens: number }): number;
  /** Extra bytes per token of a forward sub-batch (what the method caches from each sub-batch); default 0. */
  batchBytesPerToken?(dims: { nEmbd: number; nFf: number; qDim: number; kvDim: number }): number;
  quantizeLayer(ctx: LayerContext): Promise<LayerResult>;
}
