/**
 * The pipeline's typed event stream. Every long job (convert, quantize, pull, awq/gptq) is an
 * `AsyncGenerator<PipelineEvent, JobResult>`; the headless printer and the TUI are two consumers
 * of the same stream, so nothing a user sees is computed outside the pipeline.
 *
 * Events are plain JSON-serialisable objects (bigints are not used) so `--jsonl` can print them as is.
 */
import type { ErrorMetrics } from '../../kernels/metrics.mjs';

export type Phase =
  | 'resolve'    // resolving a source (hub revision, local folder)
  | 'download'   // fetching files into the cache
  | 'plan'       // computing per-tensor target types
  | 'write'      // reading, quantizing and writing tensors
  | 'validate'   // round-trip metrics and anomaly checks
  | 'verify'     // re-opening the written output
  | 'eval'       // perplexity / KL divergence of a model (src/pipeline/eval.ts)
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
  state: 'start' | 'progress' | 'done' | 'cached';
  fileProgress: TransferProgress;
  overall: TransferProgress;
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

export interface JobSummary {
  output: string;
  outputBytes: number;
  seconds: number;
  tensors: number;
  /** Present when validation ran. */
  report?: unknown;
  [key: string]: unknown;
}

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

export type PipelineEvent = PhaseEvent | DownloadEvent | TensorEvent | WarningEvent | DoneEvent | EvalProgressEvent;
