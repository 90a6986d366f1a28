// The bit test of `ggml_validate_row_data` (ggml-quants.c) over a block's float fields: plain JS
// (types in nonfinite-fields.d.mts) so the pool workers check the rows they quantize and write
// themselves (kernels/fast/file-job.mjs) with the same code as kernels/validate-row.ts.

/**
 * The wasm twin's field kinds (kernels/wasm/assembly/nonfinite-fields.ts `firstNonFiniteField`);
 * a kind not listed holds no float, as in nonFiniteAt.
 * @type {Readonly<Record<string, number>>}
 */
const FIELD_KIND_CODES = Object.freeze({ f16: 0, bf16: 1, f32: 2, f64: 3 });

/**
 * True when the float of `kind` stored at `o` has an all-ones exponent (NaN or ±Inf). Reads the
 * exponent bits byte by byte (little-endian, any alignment).
 * @param {string} kind @param {Uint8Array} b @param {number} o
 */
export function nonFiniteAt(kind, b, o) {
  switch (kind) {
    case 'f16':
      return (b[o + 1] & 0x7c) === 0x7c;
    case 'bf16':
      return (b[o + 1] & 0x7f) === 0x7f && (b[o] & 0x80) !== 0;
    case 'f32':
      return (b[o + 3] & 0x7f) === 0x7f && (b[o + 2] & 0x80) !== 0;
    case 'f64':
      return (b[o + 7] & 0x7f) === 0x7f && (b[o + 6] & 0xf0) === 0xf0;
    default:
      return false;
  }
}

/**
 * Index of the first of `blocks` blocks of `size` bytes at byte `start` of `bytes` with a NaN/Inf
 * in one of `fields` (a block's float fields, from kernels/block-layouts.ts), or −1.
 * @param {readonly { kind: string, offset: number }[]} fields @param {number} size
 * @param {Uint8Array} bytes @param {number} start @param {number} blocks
 */
export function firstNonFiniteField(fields, size, bytes, start, blocks) {
  if (fields.length === 1) {
    // One float per block (every type but the min/max ones): a tight strided loop.
    const { kind, offset } = fields[0];
    for (let b = 0, o = start + offset; b < blocks; b++, o += size) if (nonFiniteAt(kind, bytes, o)) return b;
    return -1;
  }
  for (let b = 0; b < blocks; b++) for (const f of fields) if (nonFiniteAt(f.kind, bytes, start + b * size + f.offset)) return b;
  return -1;
}

/**
 * firstNonFiniteField on `blocks` blocks at byte `ptr` of a wasm instance's memory, by its
 * `firstNonFiniteField(ptr, blocks, size, offset, kindCode)` export (one field per call, the same
 * bit test): each field's scan stops at the block an earlier field found, so the answer is the
 * first block with any bad field. For the pool workers' file jobs (kernels/fast/file-job.mjs).
 * @param {(ptr: number, blocks: number, size: number, offset: number, kind: number) => number} scan
 * @param {readonly { kind: string, offset: number }[]} fields @param {number} size
 * @param {number} ptr @param {number} blocks
 */
export function firstNonFiniteFieldWasm(scan, fields, size, ptr, blocks) {
  let first = -1;
  for (const f of fields) {
    const b = scan(ptr, first < 0 ? blocks : first, size, f.offset, FIELD_KIND_CODES[f.kind] ?? -1);
    if (b >= 0) first = b;
  }
  return first;
}
