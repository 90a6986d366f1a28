/**
 * llama-imatrix's `--show-statistics` (tools/imatrix/imatrix.cpp `compute_statistics`,
 * `compute_cossim`, `show_statistics`, read at the pinned version), as pure functions over a
 * loaded matrix. The one implementation: `imatrix --show-statistics` and `inspect` of an imatrix
 * file both call it.
 *
 * Per tensor, over the per-token mean x² of every column of every expert that saw tokens
 * ("activations" upstream: sums / count):
 *   Σ(Act²) the total, min, max, μ, σ (population), % active (share of |v| > 1e-5), N (how many),
 *   entropy of v/Σ in bits, E (norm) = entropy / log2 N as a percentage, ZD = share of values more
 *   than one σ above μ, and CosSim = the cosine of the raw sums with the same tensor one block
 *   earlier (`blk.N-1.`; 0 for block 0, tensors outside blocks, or a different size).
 * Then per block the element-weighted means of Σ(Act²), ZD and CosSim.
 * Upstream computes in float32 with sequential accumulation; so do we (Math.fround at every
 * step), so the printed figures match its output. A .dat file is first brought to the raw form
 * with the chunk size (llama-imatrix uses its --ctx, 512 by default), which the means cancel.
 */
import type { Imatrix } from '../../formats/imatrix/imatrix.ts';
import { mergeImatrices } from '../../formats/imatrix/merge-imatrix.ts';
import { untrusted } from '../../formats/errors.ts';

export interface TensorStatistics {
  /** The full entry name, e.g. `blk.3.ffn_down.weight`. */
  name: string;
  /** The block number as upstream prints it (`-` outside blocks). */
  layer: string;
  /** The short name upstream prints (the part before `.weight`). */
  tensor: string;
  sumSq: number;
  min: number;
  max: number;
  mean: number;
  stddev: number;
  /** Share of values above 1e-5, 0…1. */
  active: number;
  elements: number;
  entropy: number;
  /** entropy / log2(elements) · 100. */
  entropyNorm: number;
  /** Share of values more than one σ above μ, 0…1. */
  zd: number;
  cosSim: number;
}

export interface LayerStatistics {
  layer: number;
  meanSumSq: number;
  meanZd: number;
  meanCosSim: number;
}

export interface ImatrixStatistics {
  tensors: TensorStatistics[];
  layers: LayerStatistics[];
  /** Entries with no tokens at all (upstream: "all counts are zero … skipping"). */
  skipped: string[];
}

const f = Math.fround;
const THRESHOLD = f(1e-5);

/** upstream process_tensor_name: the block number after `blk`, and the piece before `weight`. */
export function splitTensorName(name: string): { layer: string; tensor: string } {
  const parts = name.split('.');
  const b = parts.findIndex((p, i) => p === 'blk' && i + 1 < parts.length);
  const w = parts.findIndex((p, i) => p === 'weight' && i > 0);
  return { layer: b >= 0 ? parts[b + 1]! : '-', tensor: w > 0 ? parts[w - 1]! : name };
}

/** Statistics of every entry; `chunkSize` rescales a legacy matrix (as llama-imatrix's --ctx). */
export function imatrixStatistics(input: Imatrix, chunkSize = 512): ImatrixStatistics {
  const m = input.legacy ? mergeImatrices([{ file: 'imatrix', imatrix: input }], chunkSize) : input;
  const tensors: TensorStatistics[] = [];
  const skipped: string[] = [];
  const raw = new Map<string, Float32Array>();
  for (const [name, e] of m.entries) {
    const s = tensorStatistics(name, e.sums, e.counts);
    if (!s) skipped.push(name);
    else {
      tensors.push(s);
      raw.set(name, e.sums);
    }
  }
  for (const t of tensors) t.cosSim = cosWithPrevious(t.name, raw);
  tensors.sort((a, b) => (a.tensor < b.tensor ? -1 : a.tensor > b.tensor ? 1 : b.sumSq - a.sumSq || (a.name < b.name ? -1 : 1)));
  return { tensors, layers: layerMeans(tensors), skipped };
}

function tensorStatistics(name: string, sums: Float32Array, counts: number[]): TensorStatistics | undefined {
  const rowSize = sums.length / counts.length;
  const act: number[] = [];
  for (let e = 0; e < counts.length; e++) {
    if (counts[e] === 0) continue;
    const c = f(counts[e]!);
    for (let j = 0; j < rowSize; j++) act.push(f(sums[e * rowSize + j]! / c));
  }
  if (act.length === 0) return undefined;
  const n = act.length;
  let total = 0;
  let sq = 0;
  let min = Infinity;
  let max = -Infinity;
  let inactive = 0;
  for (const v of act) {
    total = f(total + v);
    sq = f(sq + f(v * v));
    if (v < min) min = v;
    if (v > max) max = v;
    if (Math.abs(v) <= THRESHOLD) inactive++;
  }
  const mean = f(total / f(n));
  const variance = f(f(sq / f(n)) - f(mean * mean));
  const stddev = f(Math.sqrt(Math.max(0, variance)));
  let entropy = 0;
  if (total > 0) {
    for (const v of act) {
      const p = f(v / total);
      if (p > 0) entropy = f(entropy - f(p * f(Math.log2(p))));
    }
  }
  let z = 0;
  if (stddev > 0) for (const v of act) if (f(f(v - mean) / stddev) > 1) z++;
  const { layer, tensor } = splitTensorName(name);
  return {
    name, layer, tensor, sumSq: total, min, max, mean, stddev, active: f(1 - f(f(inactive) / f(n))), elements: n, entropy,
    // upstream: std::log2 of an int is a double; the result is stored as float.
    entropyNorm: f(100 * (entropy / Math.log2(n))), zd: f(f(z) / f(n)), cosSim: 0,
  };
}

/** upstream compute_cossim: the first `blk.N.` in the name, with N-1. */
function cosWithPrevious(name: string, raw: Map<string, Float32Array>): number {
  const match = /blk\.(\d+)\./.exec(name);
  if (!match) return 0;
  const at = match.index + 4;
  const prevName = name.slice(0, at) + String(Number(match[1]) - 1) + name.slice(at + match[1]!.length);
  const a = raw.get(name)!;
  const b = raw.get(prevName);
  if (!b || b.length !== a.length) return 0;
  let dp = 0;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < a.length; i++) {
    dp = f(dp + f(a[i]! * b[i]!));
    ma = f(ma + f(a[i]! * a[i]!));
    mb = f(mb + f(b[i]! * b[i]!));
  }
  return f(dp / f(f(Math.sqrt(ma)) * f(Math.sqrt(mb))));
}

/** upstream's per-layer table: element-weighted means over each block's tensors, blocks ascending. */
function layerMeans(tensors: TensorStatistics[]): LayerStatistics[] {
  const ws = new Map<number, { bias: number; zd: number; cos: number; n: number }>();
  for (const t of tensors) {
    const blk = /^\d/.test(t.layer) ? parseInt(t.layer, 10) : -1;
    const w = ws.get(blk) ?? { bias: 0, zd: 0, cos: 0, n: 0 };
    w.bias = f(w.bias + f(t.elements * t.sumSq));
    w.zd = f(w.zd + f(t.elements * t.zd));
    w.cos = f(w.cos + f(t.elements * t.cosSim));
    w.n += t.elements;
    ws.set(blk, w);
  }
  return [...ws].filter(([blk, w]) => blk >= 0 && w.n > 0).sort(([a], [b]) => a - b)
    .map(([layer, w]) => ({ layer, meanSumSq: f(w.bias / f(w.n)), meanZd: f(w.zd / f(w.n)), meanCosSim: f(w.cos / f(w.n)) }));
}

// printf-style cells, as upstream's LOG_INF format strings lay them out.
const fx = (v: number, width: number, digits: number) => v.toFixed(digits).padStart(width);
const int = (v: number, width: number) => String(v).padStart(width);

/** The two tables llama-imatrix --show-statistics prints (tab-separated, its column formats). */
export function renderImatrixStatistics(file: string, s: ImatrixStatistics): string {
  const lines = [`Computing statistics for ${untrusted(file)} (${s.tensors.length} tensors)`, ''];
  lines.push([' Layer', '       Tensor', '          Σ(Act²)', '  Min', '            Max', '           μ', '   σ', ' % Active', 'N', '   Entropy', 'E (norm)', 'ZD', '  CosSim'].join('\t'));
  lines.push('='.repeat(169));
  for (const t of s.tensors) {
    lines.push([
      t.layer.padStart(5), untrusted(t.tensor).padEnd(20), fx(t.sumSq, 10, 2), fx(t.min, 8, 4), fx(t.max, 11, 4), fx(t.mean, 6, 2), fx(t.stddev, 6, 2),
      `${fx(t.active * 100, 8, 2)}%`, int(t.elements, 6), fx(t.entropy, 10, 4), `${fx(t.entropyNorm, 6, 2)}%`, `${fx(100 * t.zd, 10, 2)}%`, fx(t.cosSim, 8, 4),
    ].join('\t'));
  }
  lines.push('', ...renderLayerTable(s));
  if (s.skipped.length) lines.push('', `No tokens (skipped): ${s.skipped.map((n) => untrusted(n)).join(', ')}`);
  return lines.join('\n') + '\n';
}

/** The per-layer weighted-average table alone (also shown by `inspect`). */
export function renderLayerTable(s: ImatrixStatistics): string[] {
  return [
    `Computing weighted average statistics per layer (${s.layers.length} layers)`, '',
    ['  Layer', '     μΣ(Act²)', '      μZD', 'μCosSim'].join('\t'),
    '='.repeat(48),
    ...s.layers.map((l) => [int(l.layer, 5), fx(l.meanSumSq, 14, 2), `${fx(100 * l.meanZd, 10, 4)}%`, fx(l.meanCosSim, 6, 4)].join('\t')),
  ];
}
