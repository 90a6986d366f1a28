/**
 * `iq3xs_init_impl(grid_size)` (ggml-quants.c), the tables `ggml_quantize_init` builds for IQ3_XXS
 * (256 points) and IQ3_S (512 points). Built once per grid size on first use, then shared.
 *
 * - grid: 4 int8 values per point, 2l+1 for the 3-bit code l (l = 0..7).
 * - map: for each of the 4096 code tuples u = Σ l_i·8^i, the grid index if u is a grid point, else
 *   −(o+1) where neighbours[o] = n and neighbours[o+1..o+n] are the candidates to search.
 * - The candidates of an off-grid u are the grid points at the nwant (2 for 256, 3 for 512) smallest
 *   squared distances, ordered by (distance, index) as upstream's qsort with iq3_compare_func
 *   (a total order, so any correct sort gives the same list).
 */
import { KGRID_IQ3S, KGRID_IQ3XXS } from './iq-grids/iq3-grids.ts';

export interface Iq3Tables {
  readonly grid: Int8Array;
  readonly map: Int32Array;
  readonly neighbours: Uint16Array;
}

const KMAP_SIZE = 4096;
const cache = new Map<number, Iq3Tables>();

export function iq3xsInit(gridSize: 256 | 512): Iq3Tables {
  const hit = cache.get(gridSize);
  if (hit) return hit;
  const kgrid = gridSize === 256 ? KGRID_IQ3XXS : KGRID_IQ3S;
  const nwant = gridSize === 256 ? 2 : 3;
  const grid = new Int8Array(4 * gridSize);
  for (let k = 0; k < gridSize; k++) {
    for (let i = 0; i < 4; i++) grid[4 * k + i] = 2 * ((kgrid[k]! >> (3 * i)) & 7) + 1;
  }
  const map = new Int32Array(KMAP_SIZE).fill(-1);
  for (let k = 0; k < gridSize; k++) {
    let index = 0;
    for (let i = 0; i < 4; i++) index |= ((grid[4 * k + i]! - 1) >> 1) << (3 * i);
    map[index] = k;
  }
  const lists: number[][] = [];
  const d2 = new Int32Array(gridSize);
  const order = Array.from({ length: gridSize }, (_, j) => j);
  const pos = new Int32Array(4);
  let total = 0;
  for (let u = 0; u < KMAP_SIZE; u++) {
    if (map[u]! >= 0) continue;
    for (let k = 0; k < 4; k++) pos[k] = 2 * ((u >> (3 * k)) & 7) + 1;
    for (let j = 0; j < gridSize; j++) {
      let s = 0;
      for (let k = 0; k < 4; k++) { const t = grid[4 * j + k]! - pos[k]!; s += t * t; }
      d2[j] = s;
    }
    order.sort((a, b) => d2[a]! - d2[b]! || a - b);
    const list: number[] = [];
    let d = d2[order[0]!]!, nhave = 1;
    for (let j = 0; j < gridSize; j++) {
      const dj = d2[order[j]!]!;
      if (dj > d) {
        if (nhave === nwant) break;
        d = dj;
        nhave++;
      }
      list.push(order[j]!);
    }
    map[u] = -(total + 1);
    total += 1 + list.length;
    lists.push(list);
  }
  const neighbours = new Uint16Array(total);
  let o = 0;
  for (const list of lists) {
    neighbours[o++] = list.length;
    for (const j of list) neighbours[o++] = j;
  }
  const tables = Object.freeze({ grid, map, neighbours });
  cache.set(gridSize, tables);
  return tables;
}
