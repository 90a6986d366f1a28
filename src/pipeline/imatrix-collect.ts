/**
 * Collects an importance matrix from the forward's matmul observer, with llama-imatrix's rules
 * (tools/imatrix/imatrix.cpp `IMatrixCollector::collect_imatrix`):
 * - a dense matmul counts when its weight is a `blk.*` tensor (or `output.weight` with
 *   `--process-output`) and it multiplies at least 16 tokens ("small batches are ignored");
 *   every input column j gets Σ x_j² over those tokens and the entry's count grows by the tokens;
 * - a 3-D MoE expert weight (`ffn_*_exps`, ggml's MUL_MAT_ID) always counts, per expert: expert
 *   e's row of sums and its own count, from the tokens routed to it.
 * Sums are kept in float64 here (llama.cpp adds in float32, in an order that depends on its
 * threads and batch) and stored as float32; a non-finite sum stops the run, as upstream exits.
 * The chunk count is what llama-imatrix records: ⌊largest count / chunk size⌋.
 * Seeded with a matrix loaded from `--in-file`s, collection continues on top of it, as
 * llama-imatrix does after `load_imatrix`; a loaded 1-count entry is broadcast to a MoE weight's
 * experts, and a loaded entry whose size the model contradicts stops the run naming its file.
 */
import { FormatError } from '../../formats/errors.ts';
import { entryColumns, type Imatrix, type ImatrixEntry } from '../../formats/imatrix/imatrix.ts';
import type { MergedImatrix } from '../../formats/imatrix/merge-imatrix.ts';
import type { MatmulInput } from '../model/forward.ts';

/** llama-imatrix skips matmuls of fewer tokens (`src1->ne[1] < 16`). */
export const MIN_TOKENS = 16;

interface Acc { sums: Float64Array; counts: number[]; cols: number; from?: string }

export class ImatrixCollector {
  private readonly acc = new Map<string, Acc>();

  constructor(private readonly opts: { processOutput?: boolean; base?: MergedImatrix } = {}) {
    for (const [name, e] of opts.base?.entries ?? []) {
      this.acc.set(name, { sums: Float64Array.from(e.sums), counts: [...e.counts], cols: entryColumns(e), from: opts.base!.from.get(name) });
    }
  }

  /** Whether llama-imatrix would collect this dense weight. */
  wants(tensor: string): boolean {
    return tensor.startsWith('blk.') || (this.opts.processOutput === true && tensor === 'output.weight');
  }

  /** The forward's MatmulObserver. */
  readonly observe = (m: MatmulInput): void => {
    if (m.expert !== undefined) return this.add(m.tensor, m.x, m.nTokens, m.cols, m.expert, m.nExperts ?? 1);
    if (m.nTokens < MIN_TOKENS || !this.wants(m.tensor)) return;
    this.add(m.tensor, m.x, m.nTokens, m.cols, 0, 1);
  };

  private add(tensor: string, x: Float32Array, nTokens: number, cols: number, expert: number, nExperts: number): void {
    let a = this.acc.get(tensor);
    if (!a) this.acc.set(tensor, (a = { sums: new Float64Array(cols * nExperts), counts: new Array<number>(nExperts).fill(0), cols }));
    // A loaded dense-form entry for a MoE weight: its one count goes to every expert (upstream "broadcast").
    if (a.from && a.counts.length === 1 && nExperts > 1 && a.sums.length === cols * nExperts) {
      a.counts = new Array<number>(nExperts).fill(a.counts[0]!);
      a.cols = cols;
    }
    if (a.cols !== cols || a.counts.length !== nExperts) {
      // llama-imatrix: "inconsistent size for …" (it exits).
      if (a.from) throw new FormatError('IMATRIX_MISMATCH', `${a.from}: entry '${tensor}' has ${a.sums.length} sums and ${a.counts.length} count(s), but the model's ${tensor} takes ${cols} columns × ${nExperts} expert(s): the imatrix is for another model`, { file: a.from, tensor });
      throw new FormatError('IMATRIX_SHAPE', `inconsistent size for ${tensor}: ${cols}×${nExperts} after ${a.cols}×${a.counts.length}`, { tensor });
    }
    const s = a.sums;
    const base = expert * cols;
    for (let t = 0; t < nTokens; t++) {
      const row = t * cols;
      for (let j = 0; j < cols; j++) {
        const v = x[row + j]!;
        s[base + j] += v * v;
      }
    }
    a.counts[expert]! += nTokens;
  }

  get size(): number {
    return this.acc.size;
  }

  /** The collected matrix in the GGUF form (raw sums and token counts). */
  result(meta: { datasets: string[]; chunkSize: number }): Imatrix {
    const entries = new Map<string, ImatrixEntry>();
    let maxCount = 0;
    for (const [name, a] of [...this.acc].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) {
      const sums = Float32Array.from(a.sums);
      const bad = sums.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) {
        // llama-imatrix: "non-finite values detected in …"
        throw new FormatError('IMATRIX_NON_FINITE', `non-finite values detected in ${name} (column ${bad % a.cols}${a.counts.length > 1 ? `, expert ${Math.floor(bad / a.cols)}` : ''}): the model's activations overflow float32`, { tensor: name });
      }
      entries.set(name, { sums, counts: [...a.counts] });
      maxCount = Math.max(maxCount, ...a.counts);
    }
    return { entries, datasets: meta.datasets, chunkCount: Math.floor(maxCount / meta.chunkSize), chunkSize: meta.chunkSize, legacy: false };
  }
}
