/**
 * The pipeline's typed event stream. Every long job (convert, quantize, pull, awq/gptq) is an
 * `AsyncGenerator<PipelineEvent, JobResult>`; the headless printer and the TUI are two consumers
 * of the same stream, so nothing a user sees is computed outside the pipeline.
 *
 * Events are plain JSON-serialisable objects (bigints are not used) so `--jsonl` can print them as is.
 */
import type { ErrorMetrics } from '../../kernels/metrics.mjs';
import type { ValidationReport } from '../validate/report.ts';
import type { EvalFigures } from './eval-figures.ts';
import type { CalibrationReport } from './calib-report.ts';

export type Phase =
  | 'resolve'    // resolving a source (hub revision, local folder)
  | 'download'   // fetching files into the cache
  | 'plan'       // computing per-tensor target types
  | 'write'      // reading, quantizing and writing tensors
  | 'validate'   // round-trip metrics and anomaly checks
  | 'verify'     // re-opening the written output
  | 'eval'       // perplexity / KL divergence of a model (src/pipeline/eval.ts)
  | 'calibrate'  // AWQ/GPTQ calibration layer loop (src/calibrate/loop.ts)
  | 'done';

export interface PhaseEvent {
  type: 'phase';
  phase: Phase;
  message?: string;
}

export interface TransferProgress {
  bytesDone: number;
  bytesTotal: number;
  /** Bytes per second, smoothed. */
  rate: number;
  /** Seconds remaining, or null when unknown. */
  etaSeconds: number | null;
}

export interface DownloadEvent {
  type: 'download';
  /** Path of the file inside the repo. */
  file: string;
  /** `start` with fileProgress.bytesDone > 0 resumes a partial download from an earlier run. */
  state: 'start' | 'progress' | 'retry' | 'done' | 'cached';
  fileProgress: TransferProgress;
  overall: TransferProgress;
  /** With state `retry`: which retry this is, after what delay, and why the last attempt failed. */
  retry?: { attempt: number; retries: number; delayMs: number; reason: string };
}

/** Round-trip error metrics of one tensor, as kernels/metrics.mjs measures them. */
export type TensorMetrics = ErrorMetrics;

export interface TensorEvent {
  type: 'tensor';
  state: 'start' | 'progress' | 'done';
  name: string;
  /** 0-based position in the output and the total number of tensors. */
  index: number;
  count: number;
  sourceType: string;
  targetType: string;
  /** GGUF dims (ne order). */
  shape: number[];
  rowsDone?: number;
  rowsTotal?: number;
  bytes?: number;
  metrics?: TensorMetrics;
}

export interface WarningEvent {
  type: 'warning';
  code: string;
  message: string;
  tensor?: string;
  file?: string;
}

export interface DoneEvent {
  type: 'done';
  summary: JobSummary;
}

/** One tensor of a plan with type names, as summaries, `--dry-run` and the TUI show it. */
export interface PlannedTensor {
  name: string;
  shape: number[];
  sourceType: string;
  targetType: string;
  /** Which rule chose the target type (`attn-v:use-more-bits`, `keep:1-D tensor`, `override:/attn_q/`). */
  rule: string;
  bytes: number;
  fallback?: { from: string; to: string; reason: string };
}

/** What every job reports. */
interface SummaryBase {
  output: string;
  outputBytes: number;
  seconds: number;
  tensors: number;
  /** Perplexity and KL of the output against its source, when the job ran eval (convert --eval, batch eval). */
  eval?: EvalFigures;
}

/** What a GGUF plan decided (a dry run reports only this, with `dryRun: true`). */
interface GgufSummaryBase extends SummaryBase {
  fileType: string;
  fallbacks: number;
  headerBytes: number;
  plan: PlannedTensor[];
  dryRun?: true;
}

export interface ConvertSummary extends GgufSummaryBase {
  kind: 'convert';
  source: string;
  dir: string;
  architecture: string;
  parameters: number;
  hub?: { repo: string; revision: string; commit: string; files: string[] };
  /** Present when validation ran. */
  report?: ValidationReport;
}

export interface QuantizeSummary extends GgufSummaryBase {
  kind: 'quantize';
  input: string;
  inputBytes: number;
  metrics?: Record<string, ErrorMetrics>;
}

export interface GroupwiseSummary extends SummaryBase {
  kind: 'awq' | 'gptq';
  method: 'awq' | 'gptq';
  report?: ValidationReport;
  quantization_config: unknown;
  files: string[];
  packedLayers: number;
  keptInFp16: string[];
  /** Present when a calibrated method (--method gptq|awq) ran: per-layer losses and anomalies. */
  calibration?: CalibrationReport;
}

/** The result of a job, by kind. */
export type JobSummary = ConvertSummary | QuantizeSummary | GroupwiseSummary;

/** Progress of `eval`: after each block of a pass ('layer') and after each scored chunk ('chunk'). */
export interface EvalProgressEvent {
  type: 'eval';
  state: 'start' | 'layer' | 'chunk';
  chunksDone: number;
  chunksTotal: number;
  /** Which model the block belongs to, on 'layer'. */
  model?: 'model' | 'ref';
  layer?: number;
  nLayer?: number;
  /** Text tokens evaluated per second so far (each through every model of the run). */
  tokensPerSecond: number;
  /** Running figures after the chunks done so far. */
  ppl?: number;
  klMean?: number;
}

/** Progress of the AWQ/GPTQ calibration loop: layer i/N, the module being worked on, samples through the current pass. */
export interface CalibrateEvent {
  type: 'calibrate';
  state: 'start' | 'progress' | 'layer';
  /** 0-based layer being calibrated (on 'layer': the one just finished). */
  layer: number;
  nLayer: number;
  /** What the method works on (`attn_k,attn_v,attn_q`, `solve attn_q`, `next inputs`). */
  module: string;
  samplesDone: number;
  samplesTotal: number;
  /** Seconds remaining, or null before the first layer finished. */
  etaSeconds: number | null;
  /** On 'layer': the layer's average module loss. */
  loss?: number;
}

export type PipelineEvent = PhaseEvent | DownloadEvent | TensorEvent | WarningEvent | DoneEvent | EvalProgressEvent | CalibrateEvent;
