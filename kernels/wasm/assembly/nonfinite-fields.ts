// The bit test of `ggml_validate_row_data` (ggml-quants.c) on one float field of every block, for
// the pool workers' file jobs: the same test as kernels/nonfinite-fields.mjs (nonFiniteAt), on the
// bytes where the quantizer left them, one strided pass, no copy to JS.

/** Field kinds, as the host passes them (kernels/nonfinite-fields.mjs FIELD_KIND_CODES). */
const F16 = 0, BF16 = 1, F32 = 2, F64 = 3;

/**
 * Index of the first of `blocks` blocks of `size` bytes at p whose float field of `kind` at byte
 * `offset` has an all-ones exponent (NaN or ±Inf), or -1. Any alignment.
 */
export function firstNonFiniteField(p: usize, blocks: i32, size: i32, offset: i32, kind: i32): i32 {
  let o = p + <usize>offset;
  if (kind == F16) {
    for (let b = 0; b < blocks; b++, o += size) if ((load<u16>(o) & 0x7c00) == 0x7c00) return b;
  } else if (kind == BF16) {
    for (let b = 0; b < blocks; b++, o += size) if ((load<u16>(o) & 0x7f80) == 0x7f80) return b;
  } else if (kind == F32) {
    for (let b = 0; b < blocks; b++, o += size) if ((load<u32>(o) & 0x7f800000) == 0x7f800000) return b;
  } else if (kind == F64) {
    for (let b = 0; b < blocks; b++, o += size) if ((load<u64>(o) & 0x7ff0000000000000) == 0x7ff0000000000000) return b;
  }
  return -1;
}
