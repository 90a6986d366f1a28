/**
 * The tensor order and dimension count llama-quantize writes (reference doc §7.1, §1.6).
 *
 * llama.cpp keeps the model's tensors in a `std::map` whose comparator (`weight_name_comparer` in
 * llama-model-loader.h) orders by the layer number parsed with `sscanf(name, "blk.%d.")` (−1 when
 * there is none), then by plain byte-wise string comparison. Its GGUF writer then stores
 * `ggml_n_dims(t)` dimensions, i.e. trailing dimensions of size 1 are dropped.
 */

/**
 * The layer number `sscanf(name, "blk.%d.", &n)` would assign, or −1. Like sscanf, the number is
 * taken even when the dot after it is missing, and `%d` skips leading whitespace and takes a sign.
 */
export function layerIndexOf(name: string): number {
  if (!name.startsWith('blk.')) return -1;
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(name.slice(4));
  if (!m) return -1;
  const n = Number.parseInt(m[1]!, 10);
  // sscanf into an int: out-of-range input is undefined behaviour in C; we refuse to guess and keep −1.
  return Number.isSafeInteger(n) && n >= -2147483648 && n <= 2147483647 ? n : -1;
}

const utf8 = new TextEncoder();

/** Byte-wise comparison, as `std::string::operator<` does (UTF-16 order differs for non-ASCII names). */
function compareBytes(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(utf8.encode(a), utf8.encode(b));
}

/** llama.cpp's `weight_name_comparer`: (layer or −1, then bytes). Negative when `a` comes first. */
export function compareTensorNames(a: string, b: string): number {
  const la = layerIndexOf(a);
  const lb = layerIndexOf(b);
  if (la !== lb) return la < lb ? -1 : 1;
  return compareBytes(a, b);
}

/** Returns a new array sorted into llama-quantize's output order. */
export function sortTensorsForQuantize<T extends { name: string }>(tensors: readonly T[]): T[] {
  return [...tensors].sort((x, y) => compareTensorNames(x.name, y.name));
}

/** `ggml_n_dims`: the number of dimensions once trailing 1s are dropped (at least 1). */
export function ggmlNDims(ne: readonly number[]): number {
  let n = ne.length;
  while (n > 1 && ne[n - 1] === 1) n--;
  return Math.max(1, n);
}

/** `ne` as llama-quantize writes it: trailing 1s dropped, at least one dimension. */
export function trimTrailingOnes(ne: readonly number[]): number[] {
  return ne.length === 0 ? [1] : ne.slice(0, ggmlNDims(ne));
}
