/**
 * An importance matrix as llama.cpp keeps it (common/imatrix-loader.h): per weight tensor, the
 * per-input-column Σx² of the activations that multiplied it (`sums`, one row of ne0 values per
 * expert) and how many tokens went into each row (`counts`, one per expert). `datasets`,
 * `chunkCount` and `chunkSize` are the file's `imatrix.*` metadata.
 *
 * Two on-disk forms exist: the current GGUF file (raw sums and counts, `general.type = imatrix`)
 * and the legacy `.dat` file (sums already divided by the count and multiplied by the number of
 * chunks, "ncall"). `legacy` records which one a loaded matrix came from, because llama-quantize
 * normalises them differently (`quantWeights`).
 */
export interface ImatrixEntry {
  /** nExperts · ne0 values, expert-major. */
  sums: Float32Array;
  /** One count per expert (tokens for GGUF files; ncall for legacy files). */
  counts: number[];
}

export interface Imatrix {
  entries: Map<string, ImatrixEntry>;
  datasets: string[];
  chunkCount: number;
  chunkSize: number;
  legacy: boolean;
}

export const IMATRIX_KEYS = {
  type: 'general.type',
  datasets: 'imatrix.datasets',
  chunkCount: 'imatrix.chunk_count',
  chunkSize: 'imatrix.chunk_size',
} as const;

export const SUMS_SUFFIX = '.in_sum2';
export const COUNTS_SUFFIX = '.counts';

/**
 * The per-column weights llama-quantize hands to `ggml_quantize_chunk` for one tensor
 * (tools/quantize `load_imatrix`): GGUF sums divided by each expert's count (1 for an expert
 * with no tokens); legacy sums divided by ncall (kept as they are when ncall is 0). Binary32.
 */
export function quantWeights(m: Imatrix, entry: ImatrixEntry): Float32Array {
  const out = new Float32Array(entry.sums.length);
  if (m.legacy) {
    const ncall = entry.counts[0] ?? 0;
    for (let i = 0; i < out.length; i++) out[i] = ncall > 0 ? Math.fround(entry.sums[i]! / ncall) : entry.sums[i]!;
    return out;
  }
  const nExperts = entry.counts.length;
  const ne0 = out.length / nExperts;
  for (let e = 0; e < nExperts; e++) {
    const count = Math.fround(entry.counts[e]!);
    for (let i = 0; i < ne0; i++) out[e * ne0 + i] = count > 0 ? Math.fround(entry.sums[e * ne0 + i]! / count) : 1;
  }
  return out;
}

/** ne0 of the weight the entry belongs to (its row length). */
export function entryColumns(entry: ImatrixEntry): number {
  return entry.sums.length / Math.max(1, entry.counts.length);
}
