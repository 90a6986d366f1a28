/**
 * Test support (an oracle for test/groupwise-packing.test.ts, not a product feature):
 * AWQ GEMM -> GPTQ v1 repacking of the same integer codes: what AutoAWQ `unpack_reorder_pack`
 * does for its exllama kernels (undo the interleave, store zeros - 1, pack along IN). A zero
 * point of 0 cannot be stored in v1, so it throws (AWQ produces one for groups with min >= 0).
 */
import { unpackAwqGemm, type AwqGemmTensors } from '../../kernels/groupwise/awq-gemm.ts';
import { packGptq, type GptqTensors } from '../../kernels/groupwise/gptq.ts';

export function awqGemmToGptqV1(t: AwqGemmTensors, out: number, inF: number, groupSize: number): GptqTensors {
  return packGptq(unpackAwqGemm(t, out, inF, groupSize), 'gptq');
}
