/**
 * GPTQ layout (reference §2.1): `qweight [in*bits/32, out]` packs codes along IN as a bit stream
 * per output column; `qzeros [G, out*bits/32]` packs zero points along OUT; `scales [G, out]`;
 * `g_idx [in]`. v1 (`checkpoint_format: "gptq"`, AutoGPTQ) stores z-1; v2 (`gptq_v2`, GPTQModel)
 * stores z. We write v1 only and refuse a zero of 0 there (it would be stored as -1 and, with the
 * upstream packer, clobber the word's higher fields); v2 is for reading.
 */
import type { GroupBits, QuantizedMatrix } from './spec.ts';
import { packStream, readStream, streamWords } from './bitstream.ts';

export type GptqFormat = 'gptq' | 'gptq_v2';

export interface GptqTensors {
  qweight: Int32Array; // [in*bits/32, out]
  qzeros: Int32Array;  // [G, out*bits/32]
  scales: Float32Array; // [G, out]
  gIdx: Int32Array;     // [in]
}

export function packGptq(m: QuantizedMatrix, format: GptqFormat = 'gptq'): GptqTensors {
  const { rows: out, cols: inF, bits, groups, codes, zeros } = m;
  const offset = format === 'gptq' ? 1 : 0;
  const maxq = (1 << bits) - 1;
  for (let i = 0; i < zeros.length; i++) {
    const z = zeros[i];
    if (z < offset || z > maxq) {
      throw new RangeError(`zero point ${z} of group ${Math.floor(i / out)}, output channel ${i % out} cannot be stored in ${format} (range ${offset}..${maxq})`);
    }
  }
  const qw = new Uint32Array(streamWords(inF, bits) * out);
  for (let n = 0; n < out; n++) packStream((k) => codes[n * inF + k], inF, bits, qw, n, out);
  const zw = streamWords(out, bits);
  const qz = new Uint32Array(groups * zw);
  for (let g = 0; g < groups; g++) packStream((n) => zeros[g * out + n] - offset, out, bits, qz, g * zw, 1);
  return { qweight: new Int32Array(qw.buffer), qzeros: new Int32Array(qz.buffer), scales: m.scales, gIdx: m.gIdx };
}

/**
 * Unpack GPTQ tensors. v1 zeros are masked then incremented (qlinear_cuda, exllama, vLLM), so a
 * stored field of 2^bits-1 decodes to 2^bits.
 */
export function unpackGptq(t: GptqTensors, out: number, inF: number, bits: GroupBits, groupSize: number, format: GptqFormat = 'gptq'): QuantizedMatrix {
  const offset = format === 'gptq' ? 1 : 0;
  const groups = t.scales.length / out;
  if (!Number.isInteger(groups)) throw new RangeError(`GPTQ scales have ${t.scales.length} values, not a multiple of out=${out}`);
  const qwRows = streamWords(inF, bits);
  if (t.qweight.length !== qwRows * out) throw new RangeError(`GPTQ qweight has ${t.qweight.length} words, expected ${qwRows}x${out}`);
  const zw = streamWords(out, bits);
  if (t.qzeros.length !== groups * zw) throw new RangeError(`GPTQ qzeros has ${t.qzeros.length} words, expected ${groups}x${zw}`);
  if (t.gIdx.length !== inF) throw new RangeError(`GPTQ g_idx has ${t.gIdx.length} entries, expected ${inF}`);
  const qw = new Uint32Array(t.qweight.buffer, t.qweight.byteOffset, t.qweight.length);
  const qz = new Uint32Array(t.qzeros.buffer, t.qzeros.byteOffset, t.qzeros.length);
  const codes = new Uint8Array(out * inF);
  for (let n = 0; n < out; n++) for (let k = 0; k < inF; k++) codes[n * inF + k] = readStream(qw, n, out, k, bits);
  const zeros = new Uint16Array(groups * out);
  for (let g = 0; g < groups; g++) for (let n = 0; n < out; n++) zeros[g * out + n] = readStream(qz, g * zw, 1, n, bits) + offset;
  return { rows: out, cols: inF, bits, groupSize, groups, codes, scales: t.scales, zeros, gIdx: t.gIdx };
}
