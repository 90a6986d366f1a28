/**
 * AutoAWQ `WQLinear_GEMV` layout (reference §1.2), read only — we never write it: `qweight
 * [out, in/8]` packs codes along IN in natural order (field i = column 8c+i); `qzeros [out, zw]`
 * packs each channel's zero points over groups in natural order; `scales [out, zw*8]` fp16, zero
 * padded after column G. `zw` is AutoAWQ `calculate_zeros_width`. Same `w = (q - z) * s`.
 * The packer exists for tests (pack -> unpack identity).
 */
import type { QuantizedMatrix } from './spec.ts';
import { trivialGroupIndex } from './groups.ts';

/** AutoAWQ `calculate_zeros_width`: ceil(G/8) words, rounded up to 2 (gs 64) or 4 (gs 32). */
export function gemvZerosWidth(inF: number, groupSize: number): number {
  const mult = groupSize >= 128 ? 1 : groupSize === 64 ? 2 : groupSize === 32 ? 4 : 0;
  if (!mult) throw new RangeError(`AWQ GEMV supports group sizes 32, 64 and >= 128, got ${groupSize}`);
  const base = Math.ceil(Math.floor(inF / groupSize) / 8);
  return Math.ceil(base / mult) * mult;
}

export interface AwqGemvTensors {
  qweight: Int32Array; // [out, in/8]
  qzeros: Int32Array;  // [out, zw]
  scales: Float32Array; // [out, zw*8]
}

export function packAwqGemv(m: QuantizedMatrix): AwqGemvTensors {
  const { rows: out, cols: inF, groups: G, codes, zeros, scales } = m;
  const zw = gemvZerosWidth(inF, m.groupSize);
  const qweight = new Int32Array(out * (inF / 8));
  for (let n = 0; n < out; n++) for (let k = 0; k < inF; k++) qweight[n * (inF / 8) + (k >> 3)] |= codes[n * inF + k]! << (4 * (k & 7));
  const qzeros = new Int32Array(out * zw);
  const s = new Float32Array(out * zw * 8);
  for (let n = 0; n < out; n++) {
    for (let g = 0; g < G; g++) {
      qzeros[n * zw + (g >> 3)] |= zeros[g * out + n]! << (4 * (g & 7));
      s[n * zw * 8 + g] = scales[g * out + n]!;
    }
  }
  return { qweight, qzeros, scales: s };
}

export function unpackAwqGemv(t: AwqGemvTensors, out: number, inF: number, groupSize: number): QuantizedMatrix {
  const zw = gemvZerosWidth(inF, groupSize);
  const G = Math.floor(inF / groupSize);
  if (inF % 8 !== 0 || t.qweight.length !== out * (inF / 8)) throw new RangeError(`AWQ GEMV qweight has ${t.qweight.length} words, expected ${out}x${inF / 8}`);
  if (t.qzeros.length !== out * zw) throw new RangeError(`AWQ GEMV qzeros has ${t.qzeros.length} words, expected ${out}x${zw}`);
  if (t.scales.length !== out * zw * 8) throw new RangeError(`AWQ GEMV scales have ${t.scales.length} values, expected ${out}x${zw * 8}`);
  const codes = new Uint8Array(out * inF);
  for (let n = 0; n < out; n++) for (let k = 0; k < inF; k++) codes[n * inF + k] = (t.qweight[n * (inF / 8) + (k >> 3)]! >>> (4 * (k & 7))) & 15;
  const zeros = new Uint16Array(G * out);
  const scales = new Float32Array(G * out);
  for (let n = 0; n < out; n++) {
    for (let g = 0; g < G; g++) {
      zeros[g * out + n] = (t.qzeros[n * zw + (g >> 3)]! >>> (4 * (g & 7))) & 15;
      scales[g * out + n] = t.scales[n * zw * 8 + g]!;
    }
  }
  return { rows: out, cols: inF, bits: 4, groupSize, groups: G, codes, scales, zeros, gIdx: trivialGroupIndex(inF, groupSize) };
}
