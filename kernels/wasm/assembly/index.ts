// Entry point of the wasm kernels. Every export works on raw pointers into this module's memory:
// (src, dst, count) where count is blocks for block types and elements for F16/BF16.
// The host (kernels/fast/wasm-kernels.mjs) places data above heapBase() and grows memory itself.
export { quantizeF16Simd as quantizeF16, quantizeBF16Simd as quantizeBF16, dequantizeF16Simd as dequantizeF16 } from './plain-simd';
export { dequantizeBF16 } from './plain';
export {
  quantizeQ8_0Simd as quantizeQ8_0, quantizeQ4_0Simd as quantizeQ4_0, quantizeQ4_1Simd as quantizeQ4_1,
  quantizeQ5_0Simd as quantizeQ5_0, quantizeQ5_1Simd as quantizeQ5_1,
} from './legacy-simd';
export { dequantizeQ4_1, dequantizeQ5_0, dequantizeQ5_1 } from './legacy';
export { quantizeQ2_K, quantizeQ3_K, quantizeQ4_K, quantizeQ5_K, quantizeQ6_K } from './kquants';
export { dequantizeQ2_K, dequantizeQ3_K } from './kquants-dequant';
export { quantizeQ2_KImatrix, quantizeQ3_KImatrix, quantizeQ4_KImatrix, quantizeQ5_KImatrix, quantizeQ6_KImatrix } from './kquants-imatrix';
export { quantizeQ4_0Imatrix, quantizeQ4_1Imatrix, quantizeQ5_0Imatrix, quantizeQ5_1Imatrix } from './legacy-imatrix';
export { quantizeIQ4_NLImatrix, quantizeIQ4_XSImatrix } from './iq4-imatrix';
export { quantizeIQ2_XXSImatrix, quantizeIQ2_XSImatrix, quantizeIQ2_SImatrix, quantizeIQ2_S } from './iq2-quantize';
export { dequantizeIQ2_XXS, dequantizeIQ2_XS, dequantizeIQ2_S } from './iq2-dequant';
export {
  dequantizeQ8_0Simd as dequantizeQ8_0, dequantizeQ4_0Simd as dequantizeQ4_0,
  dequantizeQ4_KSimd as dequantizeQ4_K, dequantizeQ5_KSimd as dequantizeQ5_K, dequantizeQ6_KSimd as dequantizeQ6_K,
} from './dequant-simd';

/** First free byte after static data: the host's buffers start here (rounded up to 16). */
export function heapBase(): usize {
  return (__heap_base + 15) & ~<usize>15;
}
export { firstNonFinite } from './scan';
export { roundTripAccumulate } from './metrics';
export { firstNonFiniteField } from './nonfinite-fields';
export { matmulPanelF32 } from './matmul';
export { attentionHead } from './attention';
export { quantizeIQ3_XXSImatrix, quantizeIQ3_SImatrix, quantizeIQ3_XXS, quantizeIQ3_S } from './iq3-quantize';
export { dequantizeIQ3_XXS, dequantizeIQ3_S } from './iq3-dequant';
export { iq3InitTables } from './iq3-init';
// The IQ2/IQ1 init tables (built on first use): exported for the table tests.
export { iq2Grid, iq2Map, iq2Neighbours, iq2NeighboursLength } from './iq2-init';
export { quantizeIQ1_SImatrix, quantizeIQ1_MImatrix } from './iq1-imatrix';
export { dequantizeIQ1_S, dequantizeIQ1_M } from './iq1-dequant';
export { quadFormPairsF64, subOuterF64, choleskyUpperF64, lowerInverseF64, gramOfLowerF64 } from './f64-solver';
