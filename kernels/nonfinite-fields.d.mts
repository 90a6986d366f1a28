/** Types of nonfinite-fields.mjs (plain JS so the pool workers can check rows without a TypeScript loader). */
/** A float field kind's code for the wasm `firstNonFiniteField` export. */
export declare const FIELD_KIND_CODES: Readonly<Record<string, number>>;
export declare function nonFiniteAt(kind: string, b: Uint8Array, o: number): boolean;
/** Index of the first of `blocks` blocks (`size` bytes each, from byte `start`) with a NaN/Inf float field, or −1. */
export declare function firstNonFiniteField(fields: readonly { kind: string; offset: number }[], size: number, bytes: Uint8Array, start: number, blocks: number): number;
