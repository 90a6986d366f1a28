/**
 * Jobs of the forward-pass workers (kernels/fast/forward-worker.mjs), on shared memory. Offsets are
 * bytes into their SharedArrayBuffer.
 */

/**
 * Output rows [r0, r1) of out = x · Wᵀ (+ bias) for all nTokens tokens: out[t·rows + r].
 * `w` holds weight rows r0..r1 from `wOffset` (row r at wOffset + (r − r0)·rowBytes); the worker
 * copies one row panel at a time into its wasm memory and dequantizes it there.
 */
export interface MatmulJob {
  kind: 'matmul';
  /** Distinct per call: a worker that already holds this call's x (same token block) skips the copy. */
  xId: number;
  x: SharedArrayBuffer;
  xOffset: number;
  nTokens: number;
  cols: number;
  rows: number;
  typeId: number;
  blockSize: number;
  typeSize: number;
  w: SharedArrayBuffer;
  wOffset: number;
  r0: number;
  r1: number;
  out: SharedArrayBuffer;
  outOffset: number;
  bias?: SharedArrayBuffer;
  biasOffset?: number;
}

/** Query heads [h0, h1) of causal GQA attention (kernels/forward/attention.ts layouts). */
export interface AttentionJob {
  kind: 'attention';
  q: SharedArrayBuffer;
  qOffset: number;
  k: SharedArrayBuffer;
  kOffset: number;
  v: SharedArrayBuffer;
  vOffset: number;
  out: SharedArrayBuffer;
  outOffset: number;
  nTokens: number;
  nHead: number;
  nHeadKv: number;
  headDim: number;
  scale: number;
  softcap: number;
  /** 0 for none. */
  window: number;
  h0: number;
  h1: number;
}

export type ForwardJob = MatmulJob | AttentionJob;
