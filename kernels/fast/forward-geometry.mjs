// Work geometry shared by the forward engine (main thread) and its workers. Plain JS so workers
// load it without a TypeScript loader.

/** Tokens of x a worker holds at once: bounds its memory (TOKEN_BLOCK × cols floats, 11.5 MB at 5632 columns); one eval chunk of 512 is copied once per call. */
export const TOKEN_BLOCK = 512;

/** Rows per weight panel: about 64 Ki floats (256 KiB dequantized), at least 1. */
export function panelRowsFor(cols) {
  return Math.max(1, Math.floor(65536 / cols));
}
