// Work geometry shared by the forward engine (main thread) and its workers. Plain JS so workers
// load it without a TypeScript loader.

/** Tokens of x a worker holds at once: bounds its memory (TOKEN_BLOCK × cols floats). */
export const TOKEN_BLOCK = 256;

/** Rows per weight panel: about 64 Ki floats (256 KiB dequantized), at least 1. */
export function panelRowsFor(cols) {
  return Math.max(1, Math.floor(65536 / cols));
}
