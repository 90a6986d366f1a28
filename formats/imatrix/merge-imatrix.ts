/**
 * Combines importance matrices the way `llama-imatrix --in-file A --in-file B …` does
 * (tools/imatrix/imatrix.cpp `IMatrixCollector::load_imatrix`, read at the pinned version):
 * - every file's entries are added into one running matrix, in the order the files are given;
 *   an entry present in only some files is kept with what those files hold;
 * - GGUF entries add raw sums and token counts as they are; a 1-count entry meeting a
 *   multi-expert one has its count broadcast to every expert first;
 * - a legacy `.dat` entry holds (Σx²/count)·ncall, so it is brought back to the raw form by
 *   multiplying its sums by the chunk size and its ncall by the chunk size too (the count added
 *   to every expert of the running entry);
 * - sums add in float32, as upstream's `std::vector<float>` does (so merging reproduces its bits);
 * - dataset names are concatenated in file order;
 * - the chunk count is ⌊largest count of any entry / chunk size⌋, recomputed after every file.
 * Where upstream logs "mismatched sums size" (or, for a `.dat` entry, silently reads past the end)
 * we throw a FormatError naming the file and the entry.
 */
import { FormatError } from '../errors.ts';
import type { Imatrix, ImatrixEntry } from './imatrix.ts';

export interface ImatrixInput {
  /** The file the matrix was read from (named in errors). */
  file: string;
  imatrix: Imatrix;
}

/** A raw-form (GGUF-form) matrix being accumulated; `from` names the file each entry first came from. */
export interface MergedImatrix extends Imatrix {
  from: Map<string, string>;
}

export function emptyImatrix(chunkSize: number): MergedImatrix {
  return { entries: new Map(), datasets: [], chunkCount: 0, chunkSize, legacy: false, from: new Map() };
}

/** Adds one file's matrix into `into` (mutated), with llama-imatrix's rules. */
export function addImatrix(into: MergedImatrix, input: ImatrixInput): void {
  const { file, imatrix: m } = input;
  const cs = into.chunkSize;
  for (const [name, entry] of m.entries) {
    let e = into.entries.get(name);
    const mismatch = (what: string) => new FormatError('IMATRIX_MISMATCH',
      `${file}: entry '${name}' has ${what}, but ${into.from.get(name) ?? 'an earlier file'} gave it ${e!.sums.length} sums and ${e!.counts.length} count(s): the files are for different models`,
      { file, tensor: name });
    if (m.legacy) {
      if (!e) into.entries.set(name, (e = { sums: new Float32Array(entry.sums.length), counts: [0] }));
      else if (e.sums.length !== entry.sums.length) throw mismatch(`${entry.sums.length} sums`);
      for (let j = 0; j < entry.sums.length; j++) e.sums[j] = Math.fround(e.sums[j]! + Math.fround(entry.sums[j]! * cs));
      const add = entry.counts[0]! * cs;
      e.counts = e.counts.map((c) => c + add);
    } else {
      if (!e) into.entries.set(name, (e = { sums: new Float32Array(entry.sums.length), counts: new Array<number>(entry.counts.length).fill(0) }));
      else if (e.sums.length !== entry.sums.length) throw mismatch(`${entry.sums.length} sums`);
      else if (e.counts.length === 1 && entry.counts.length > 1) e.counts = new Array<number>(entry.counts.length).fill(e.counts[0]!);
      else if (e.counts.length !== entry.counts.length) throw mismatch(`${entry.counts.length} counts`);
      for (let j = 0; j < entry.sums.length; j++) e.sums[j] = Math.fround(e.sums[j]! + entry.sums[j]!);
      for (let j = 0; j < entry.counts.length; j++) e.counts[j]! += entry.counts[j]!;
    }
    if (!into.from.has(name)) into.from.set(name, file);
  }
  into.datasets.push(...m.datasets);
  into.chunkCount = chunkCountOf(into.entries, cs);
}

/** llama-imatrix's chunk count: ⌊largest count / chunk size⌋. */
export function chunkCountOf(entries: Map<string, ImatrixEntry>, chunkSize: number): number {
  let max = 0;
  for (const e of entries.values()) for (const c of e.counts) if (c > max) max = c;
  return Math.floor(max / chunkSize);
}

/** All inputs combined, in order. */
export function mergeImatrices(inputs: ImatrixInput[], chunkSize: number): MergedImatrix {
  const out = emptyImatrix(chunkSize);
  for (const input of inputs) addImatrix(out, input);
  return out;
}

/**
 * The chunk size a merge without a model uses: llama-imatrix uses `--ctx` (default 512); we use
 * `--ctx` too, but without it the chunk size the GGUF inputs record when they all agree (a merge of
 * files computed at another context then keeps their chunk size and count), else 512.
 */
export function mergeChunkSize(inputs: ImatrixInput[], ctx?: number): number {
  if (ctx !== undefined) return ctx;
  const sizes = new Set(inputs.filter((i) => !i.imatrix.legacy && i.imatrix.chunkSize > 0).map((i) => i.imatrix.chunkSize));
  return sizes.size === 1 ? [...sizes][0]! : 512;
}
