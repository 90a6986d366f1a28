/** Types of nonfinite-fields.mjs (plain JS so the pool workers can check rows without a TypeScript loader). */
export declare function nonFiniteAt(kind: string, b: Uint8Array, o: number): boolean;
/** Index of the first of `blocks` blocks (`size` bytes each, from byte `start`) with a NaN/Inf float field, or −1. */
export declare function firstNonFiniteField(fields: readonly { kind: string; offset: number }[], size: number, bytes: Uint8Array, start: number, blocks: number): number;
/** firstNonFiniteField on blocks in a wasm instance's memory at byte `ptr`, by its `firstNonFiniteField` export (`scan`). */
export declare function firstNonFiniteFieldWasm(
  scan: (ptr: number, blocks: number, size: number, offset: number, kind: number) => number,
  fields: readonly { kind: string; offset: number }[], size: number, ptr: number, blocks: number,
): number;
