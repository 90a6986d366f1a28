/**
 * The forward pass's numeric kernels (reference path). Pure functions over typed arrays; the fast
 * path (kernels/fast/matmul-engine.ts) is tested equal to these within stated tolerances.
 */
export { type WeightMatrix, weightRowBytes, dequantizeRows } from './weight-matrix.ts';
export { matmulRef } from './matmul-ref.ts';
export { rmsNorm } from './rms-norm.ts';
export { rope, type RopeOptions } from './rope.ts';
export { attention, type AttentionOptions } from './attention.ts';
export { silu, siluMul, addInPlace, addBias } from './elementwise.ts';
export { softmax, logSoftmax } from './softmax.ts';
export { type MatmulEngine, createRefEngine } from './engine.ts';
export { gelu, geluMul } from './gelu.ts';
