/**
 * What a calibrated AWQ/GPTQ run reports (the contract between the calibration loop, the JSON
 * output, the text report and the TUI's per-layer chart). GPTQ reports each module's loss as
 * AutoGPTQ logs it ("avg loss": Σ over rows of the error of fasterquant, divided by the module's
 * row count… see the solver); AWQ reports each scaled group's chosen ratio and its output loss
 * before and after the search, and each clipped module.
 */

/** One quantized linear module of a decoder layer. */
export interface ModuleLoss {
  /** GGUF-style short name: `attn_q`, `attn_k`, `attn_v`, `attn_output`, `ffn_gate`, `ffn_up`, `ffn_down`. */
  module: string;
  /** The HF tensor it came from (`model.layers.3.self_attn.q_proj`). */
  tensor: string;
  /** GPTQ: AutoGPTQ's avg loss; AWQ: output MSE of the clipped module (auto_clip's objective). */
  loss: number;
  /** Seconds spent on the module. */
  seconds?: number;
}

/** One AWQ scale group (auto_scale): the modules scaled together after `prevOp`. */
export interface AwqScaleGroup {
  /** What the scales fold into: `attn_norm`, `attn_v`, `ffn_norm`, `ffn_up`. */
  prevOp: string;
  modules: string[];
  /** The grid ratio chosen (0 … 1 in 1/n_grid steps). */
  ratio: number;
  /** Output MSE of module2inspect with plain RTN of the unscaled weights (s = 1; duo_scaling's ratio 0 is not s = 1) and at the chosen ratio. */
  lossBefore: number;
  lossAfter: number;
}

export interface LayerCalibration {
  layer: number;
  modules: ModuleLoss[];
  scaleGroups?: AwqScaleGroup[];
  seconds: number;
}

/** A rule that flagged a layer or module. Each threshold is a flag the user can set. */
export interface CalibAnomaly {
  rule: 'early-layer-loss' | 'outlier-loss' | 'non-finite-loss';
  layer: number;
  module?: string;
  loss: number;
  message: string;
}

export interface CalibrationReport {
  method: 'gptq' | 'awq';
  /** Where the calibration text came from, and what was used of it. */
  calib: { source: string; samples: number; seqlen: number; seed: number };
  layers: LayerCalibration[];
  anomalies: CalibAnomaly[];
  seconds: number;
}
