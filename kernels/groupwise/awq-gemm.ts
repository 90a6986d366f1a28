/**
 * AutoAWQ `WQLinear_GEMM` layout (reference §1.1): `qweight [in, out/8]` packs the transposed codes
 * along OUT, `qzeros [G, out/8]` packs raw zero points the same way, `scales [G, out]` fp16.
 * Inside each int32, field i (bits 4i..4i+3) holds column 8c + AWQ_ORDER[i] — the interleave of
 * AutoAWQ `from_linear` / vLLM `awq_pack`, so columns 0..7 holding 0..7 pack to 0x75316420.
 * 8 bits (vLLM `awq_pack` only; AutoAWQ has 4 only) uses [0, 2, 1, 3].
 */
import type { QuantizedMatrix } from './spec.ts';
import { trivialGroupIndex } from './groups.ts';

export const AWQ_ORDER_4 = [0, 2, 4, 6, 1, 3, 5, 7] as const;
export const AWQ_ORDER_8 = [0, 2, 1, 3] as const;

function order(bits: number): readonly number[] {
  if (bits === 4) return AWQ_ORDER_4;
  if (bits === 8) return AWQ_ORDER_8;
  throw new RangeError(`AWQ GEMM packs 4 (or 8) bits, got ${bits}`);
}

/** Pack a `[nRows, nCols]` matrix (value at (r, c) from `get`) along columns with the AWQ interleave. */
export function awqPackRows(get: (r: number, c: number) => number, nRows: number, nCols: number, bits: number): Int32Array {
  const ord = order(bits);
  const per = 32 / bits;
  if (nCols % per !== 0) throw new RangeError(`AWQ packing needs a multiple of ${per} columns, got ${nCols}`);
  const wpr = nCols / per;
  const out = new Int32Array(nRows * wpr);
  for (let r = 0; r < nRows; r++) {
    for (let c = 0; c < wpr; c++) {
      let word = 0;
      for (let i = 0; i < per; i++) word |= get(r, c * per + ord[i]) << (bits * i);
      out[r * wpr + c] = word;
    }
  }
  return out;
}

/** Inverse of `awqPackRows`: calls `set(r, c, value)` for every field. */
export function awqUnpackRows(words: Int32Array, nRows: number, nCols: number, bits: number, set: (r: number, c: number, v: number) => void): void {
  const ord = order(bits);
  const per = 32 / bits;
  const wpr = nCols / per;
  const mask = (1 << bits) - 1;
  if (words.length !== nRows * wpr) throw new RangeError(`AWQ tensor has ${words.length} words, expected ${nRows}x${wpr}`);
  for (let r = 0; r < nRows; r++) {
    for (let c = 0; c < wpr; c++) {
      const word = words[r * wpr + c];
      for (let i = 0; i < per; i++) set(r, c * per + ord[i], (word >>> (bits * i)) & mask);
    }
  }
}

export interface AwqGemmTensors {
  qweight: Int32Array; // [in, out/8]
  qzeros: Int32Array;  // [G, out/8]
  scales: Float32Array; // [G, out], fp16-exact
}

/** Pack solver output into AWQ GEMM tensors. AWQ has no g_idx, so groups must be contiguous. */
export function packAwqGemm(m: QuantizedMatrix): AwqGemmTensors {
  const trivial = trivialGroupIndex(m.cols, m.groupSize);
  for (let k = 0; k < m.cols; k++) {
    if (m.gIdx[k] !== trivial[k]) throw new RangeError('AWQ GEMM stores no g_idx: act-order groups cannot be packed');
  }
  const maxq = (1 << m.bits) - 1;
  for (let i = 0; i < m.zeros.length; i++) if (m.zeros[i] > maxq) throw new RangeError(`zero point ${m.zeros[i]} exceeds ${maxq}`);
  const { rows: out, cols: inF, codes, zeros } = m;
  if (m.bits !== 4) {
    const qweight = awqPackRows((r, c) => codes[c * inF + r]!, inF, out, m.bits);
    return { qweight, qzeros: awqPackRows((g, c) => zeros[g * out + c]!, m.groups, out, m.bits), scales: m.scales };
  }
  if (out % 8 !== 0) throw new RangeError(`AWQ packing needs a multiple of 8 output channels, got ${out}`);
  // qweight: word (k, c) gathers codes[8c + AWQ_ORDER[i], k]; read 8 channel rows in step along k
  const wpr = out / 8;
  const qweight = new Int32Array(inF * wpr);
  for (let c = 0; c < wpr; c++) {
    for (let i = 0; i < 8; i++) {
      const row = (8 * c + AWQ_ORDER_4[i]!) * inF;
      const shift = 4 * i;
      for (let k = 0; k < inF; k++) qweight[k * wpr + c] |= codes[row + k]! << shift;
    }
  }
  const qzeros = awqPackRows((g, c) => zeros[g * out + c]!, m.groups, out, m.bits);
  return { qweight, qzeros, scales: m.scales };
}

/** Unpack AWQ GEMM tensors back into codes `[out, in]`, zeros and scales `[G, out]`. */
export function unpackAwqGemm(t: AwqGemmTensors, out: number, inF: number, groupSize: number, bits = 4): QuantizedMatrix {
  const groups = groupSize === -1 ? 1 : Math.ceil(inF / groupSize);
  const codes = new Uint8Array(out * inF);
  const zeros = new Uint16Array(groups * out);
  if (bits === 4 && t.qweight.length === inF * (out / 8)) {
    const wpr = out / 8;
    for (let c = 0; c < wpr; c++) {
      for (let i = 0; i < 8; i++) {
        const row = (8 * c + AWQ_ORDER_4[i]!) * inF;
        const shift = 4 * i;
        for (let k = 0; k < inF; k++) codes[row + k] = (t.qweight[k * wpr + c]! >>> shift) & 15;
      }
    }
  } else {
    awqUnpackRows(t.qweight, inF, out, bits, (r, c, v) => { codes[c * inF + r] = v; });
  }
  awqUnpackRows(t.qzeros, groups, out, bits, (g, c, v) => { zeros[g * out + c] = v; });
  if (t.scales.length !== groups * out) throw new RangeError(`AWQ scales have ${t.scales.length} values, expected ${groups}x${out}`);
  return { rows: out, cols: inF, bits: bits as 4 | 8, groupSize, groups, codes, scales: t.scales, zeros, gIdx: trivialGroupIndex(inF, groupSize) };
}
