/**
 * `iq2xs_init_impl(type)` (ggml-quants.c): the search tables the IQ2_XXS, IQ2_XS, IQ2_S, IQ1_S and
 * IQ1_M quantizers need, keyed by lattice size (256, 512, 1024, 2048 points). Built lazily once per
 * size and cached, as `ggml_quantize_init` does.
 *
 * A point is 8 coordinates, each a 2-bit code l (0..3; the IQ1 lattice uses 0..2). Its 16-bit
 * "index" packs l_k at bits 2k. Upstream tables, as we store them:
 *   grid        Int8Array(8·gridSize): coordinate k of point j is grid[8j + k] = 2·l + 1 (upstream
 *               keeps each point as one uint64 of these 8 int8 values; this is those bytes).
 *   map         Int32Array(43692): for an index on the lattice, its point number (≥ 0); otherwise
 *               −(offset + 1) of its neighbour list in `neighbours`.
 *   neighbours  Uint16Array: at each offset, a count n then n point numbers: every lattice point at
 *               the `nwant` smallest distinct squared distances from the off-lattice index (in
 *               2l+1 coordinates), ordered by (distance, point number) as upstream's qsort orders them.
 * nwant is 2 for 256 and 512 points, 1 for 1024 (IQ2_S) and 3 for 2048 (IQ1_S/IQ1_M).
 */
import { KGRID_1BIT_2048, KGRID_2BIT_1024, KGRID_2BIT_256, KGRID_2BIT_512 } from './iq-grids/iq2-grids.ts';

export type Iq2GridSize = 256 | 512 | 1024 | 2048;

export interface Iq2Tables {
  readonly gridSize: Iq2GridSize;
  readonly grid: Int8Array;
  readonly map: Int32Array;
  readonly neighbours: Uint16Array;
}

/** kmap_size: every index with codes ≤ 2 fits below 0xAAAA + 2. */
export const IQ2_MAP_SIZE = 43692;

const KGRIDS: Record<Iq2GridSize, { kgrid: Uint16Array; nwant: number }> = {
  256: { kgrid: KGRID_2BIT_256, nwant: 2 },
  512: { kgrid: KGRID_2BIT_512, nwant: 2 },
  1024: { kgrid: KGRID_2BIT_1024, nwant: 1 },
  2048: { kgrid: KGRID_1BIT_2048, nwant: 3 },
};

const cache = new Map<Iq2GridSize, Iq2Tables>();

/** The tables for one lattice size, built on first use. */
export function iq2Tables(gridSize: Iq2GridSize): Iq2Tables {
  let t = cache.get(gridSize);
  if (!t) {
    const spec = KGRIDS[gridSize];
    if (!spec) throw new RangeError(`iq2 init: no lattice with ${gridSize} points (256, 512, 1024 or 2048)`);
    t = build(gridSize, spec.kgrid, spec.nwant);
    cache.set(gridSize, t);
  }
  return t;
}

function build(gridSize: Iq2GridSize, kgrid: Uint16Array, nwant: number): Iq2Tables {
  const grid = new Int8Array(8 * gridSize);
  for (let j = 0; j < gridSize; j++) {
    for (let k = 0; k < 8; k++) grid[8 * j + k] = 2 * ((kgrid[j]! >> (2 * k)) & 3) + 1;
  }
  const map = new Int32Array(IQ2_MAP_SIZE).fill(-1);
  for (let j = 0; j < gridSize; j++) map[kgrid[j]!] = j;

  // Upstream sorts all (d2, j) pairs per off-lattice index and keeps the prefix covering nwant
  // distinct distances. d2 is a small integer (≤ 8·6² = 288), so counting by distance and then
  // scanning j upwards gives the same order without the sort.
  const MAX_D2 = 8 * 36;
  const d2 = new Int32Array(gridSize);
  const present = new Uint8Array(MAX_D2 + 1);
  const wanted = new Int32Array(nwant);
  const lists: Uint16Array[] = [];
  let total = 0;
  const pos = new Int32Array(8);
  for (let i = 0; i < IQ2_MAP_SIZE; i++) {
    if (map[i]! >= 0) continue;
    for (let k = 0; k < 8; k++) pos[k] = 2 * ((i >> (2 * k)) & 3) + 1;
    present.fill(0);
    for (let j = 0; j < gridSize; j++) {
      let s = 0;
      for (let k = 0; k < 8; k++) { const e = grid[8 * j + k]! - pos[k]!; s += e * e; }
      d2[j] = s;
      present[s] = 1;
    }
    let nd = 0;
    for (let v = 0; v <= MAX_D2 && nd < nwant; v++) if (present[v]) wanted[nd++] = v;
    let n = 0;
    for (let w = 0; w < nd; w++) for (let j = 0; j < gridSize; j++) if (d2[j] === wanted[w]) n++;
    const list = new Uint16Array(1 + n);
    list[0] = n;
    let c = 1;
    for (let w = 0; w < nd; w++) for (let j = 0; j < gridSize; j++) if (d2[j] === wanted[w]) list[c++] = j;
    map[i] = -(total + 1);
    total += list.length;
    lists.push(list);
  }
  const neighbours = new Uint16Array(total);
  let off = 0;
  for (const l of lists) { neighbours.set(l, off); off += l.length; }
  return Object.freeze({ gridSize, grid, map, neighbours });
}
