/**
 * The GPTQ bit order: values laid out as one contiguous little-endian bit stream along the packed
 * axis; value k occupies stream bits [k*bits, (k+1)*bits), word w holds stream bits [32w, 32w+32).
 * For 3 bits, values 10 and 21 of every 32 straddle two words. This is AutoGPTQ
 * `QuantLinear.pack()` and the `wf` unpacking, and GPTQModel `_unpack_rows_3bit`, in one routine.
 *
 * Strided so one call packs a column of `qweight` (stride = out) or a row of `qzeros` (stride = 1).
 * Words are uint32 here; they are the same bits as the stored int32.
 */

/** OR `count` values (each < 2^bits) into `words` starting at word `base`, successive words `stride` apart. */
export function packStream(
  values: (i: number) => number, count: number, bits: number, words: Uint32Array, base: number, stride: number,
): void {
  for (let k = 0; k < count; k++) {
    const v = values(k) >>> 0;
    const bit = k * bits;
    const w = bit >>> 5;
    const shift = bit & 31;
    const at = base + w * stride;
    words[at] = (words[at] | (v << shift)) >>> 0;
    if (shift + bits > 32) words[at + stride] = (words[at + stride] | (v >>> (32 - shift))) >>> 0;
  }
}

/** Read value k of the stream (the inverse of `packStream`). */
export function readStream(words: Uint32Array, base: number, stride: number, k: number, bits: number): number {
  const bit = k * bits;
  const w = bit >>> 5;
  const shift = bit & 31;
  const mask = (1 << bits) - 1;
  const at = base + w * stride;
  let v = words[at] >>> shift;
  if (shift + bits > 32) v |= words[at + stride] << (32 - shift);
  return v & mask;
}

/** Words needed for `count` values of `bits`. */
export function streamWords(count: number, bits: number): number {
  return Math.ceil((count * bits) / 32);
}
