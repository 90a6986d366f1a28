/**
 * The forward pass's heavy kernels behind one async interface, so the model code runs unchanged on
 * the reference path (in-process, synchronous underneath) or the fast path (wasm SIMD on the worker
 * pool, kernels/fast/forward-engine.ts).
 */
import { matmulRef } from './matmul-ref.ts';
import { attention, type AttentionOptions } from './attention.ts';
import type { WeightMatrix } from './weight-matrix.ts';

export interface MatmulEngine {
  readonly name: string;
  readonly threads: number;
  /** out[t·rows + r] = Σ_c x[t·cols + c]·W[r,c] (+ bias[r]); see matmulRef. */
  matmul(x: Float32Array, nTokens: number, w: WeightMatrix, out: Float32Array, bias?: Float32Array): Promise<void>;
  /** Causal GQA attention; see attention(). */
  attention(q: Float32Array, k: Float32Array, v: Float32Array, nTokens: number, nHead: number, nHeadKv: number, headDim: number, scale: number, out: Float32Array, opts?: AttentionOptions): Promise<void>;
  close(): Promise<void>;
}

export function createRefEngine(): MatmulEngine {
  return {
    name: 'ref',
    threads: 1,
    matmul: async (x, nTokens, w, out, bias) => matmulRef(x, nTokens, w, out, bias),
    attention: async (q, k, v, nTokens, nHead, nHeadKv, headDim, scale, out, opts) => attention(q, k, v, nTokens, nHead, nHeadKv, headDim, scale, out, opts),
    close: async () => {},
  };
}
