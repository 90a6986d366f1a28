// `iq3xs_init_impl(grid_size)` (ggml-quants.c) for the wasm IQ3 quantizers: the tables
// `ggml_quantize_init` builds for IQ3_XXS (256 points) and IQ3_S (512), built lazily on first use
// per grid size and per instance, in static memory (the host owns everything above heapBase()).
// Same content as kernels/ref/iq3-init.ts, laid out for the SIMD neighbour search:
//
// - GRID: per point 4 f32 values 2l+1 (what iq3_find_best_neighbour multiplies by the scale, and
//   the q = 2L+1 of the quantizers' sums).
// - MAP: per code tuple u = Σ l_i·8^i, the grid index if u is a grid point, else −(1 + (c << 6 | n))
//   where chunks c..c+n−1 of CHUNKS hold u's candidate list.
// - CHUNKS: a candidate list four at a time, 80 bytes per chunk: 4 × v128 (value i of the 4
//   candidates, f32) then a v128 of their grid indexes. A list is the points at the nwant (2 for 256,
//   3 for 512) smallest squared distances, ordered by (distance, index) as upstream's qsort with
//   iq3_compare_func (a total order); the last chunk is padded with NaN values, which never win.
import { KGRID_IQ3S, KGRID_IQ3XXS } from './iq3-grids';

/** Chunk counts of the two lists (fixed by the grids; build() aborts if they ever differ). */
const CHUNKS_256 = 6038;
const CHUNKS_512 = 7427;
export const CHUNK_BYTES = 80;

// Exported so a kernel picks its grid size's tables at compile time (no objects: the stub
// runtime would allocate them where the host's buffers go).
export const GRID_256 = memory.data(256 * 16, 16);
export const GRID_512 = memory.data(512 * 16, 16);
export const MAP_256 = memory.data(4096 * 4, 16);
export const MAP_512 = memory.data(4096 * 4, 16);
export const CH_256 = memory.data(CHUNKS_256 * CHUNK_BYTES, 16);
export const CH_512 = memory.data(CHUNKS_512 * CHUNK_BYTES, 16);
const D2 = memory.data(512 * 4, 16);

let built256 = false;
let built512 = false;

/** Builds the tables of grid size 256 or 512 unless this instance already has them. */
export function iq3Init(gridSize: i32): void {
  if (gridSize == 256) {
    if (!built256) { build(256, KGRID_IQ3XXS, 2, GRID_256, MAP_256, CH_256, CHUNKS_256); built256 = true; }
  } else if (!built512) { build(512, KGRID_IQ3S, 3, GRID_512, MAP_512, CH_512, CHUNKS_512); built512 = true; }
}

function build(n: i32, kgrid: usize, nwant: i32, grid: usize, map: usize, chunks: usize, maxChunks: i32): void {
  for (let k = 0; k < n; k++) {
    const code = <i32>load<u16>(kgrid + (<usize>k << 1));
    for (let i = 0; i < 4; i++) { const q: i32 = 2 * ((code >> (3 * i)) & 7) + 1; store<f32>(grid + (<usize>(4 * k + i) << 2), <f32>q); }
  }
  memory.fill(map, 0xff, 4096 * 4);
  // A point's tuple code is its kgrid entry: Σ ((2l+1 − 1)/2)·8^i.
  for (let k = 0; k < n; k++) store<i32>(map + (<usize>load<u16>(kgrid + (<usize>k << 1)) << 2), k);
  let chunk = 0;
  for (let u = 0; u < 4096; u++) {
    if (load<i32>(map + (<usize>u << 2)) >= 0) continue;
    for (let j = 0; j < n; j++) {
      const code = <i32>load<u16>(kgrid + (<usize>j << 1));
      let s = 0;
      for (let i = 0; i < 4; i++) { const d = ((code >> (3 * i)) & 7) - ((u >> (3 * i)) & 7); s += d * d; }
      store<i32>(D2 + (<usize>j << 2), s); // 4× the distance in grid units: same order
    }
    // Walk the nwant smallest distinct distances upwards; at each, the points at it by index.
    const first = chunk;
    let slot = 0, last = -1;
    for (let h = 0; h < nwant; h++) {
      let d = 0x7fffffff;
      for (let j = 0; j < n; j++) { const v = load<i32>(D2 + (<usize>j << 2)); if (v > last && v < d) d = v; }
      for (let j = 0; j < n; j++) {
        if (load<i32>(D2 + (<usize>j << 2)) != d) continue;
        if (chunk >= maxChunks) abort('iq3xs_init: neighbour table larger than reserved');
        const p = chunks + <usize>chunk * CHUNK_BYTES;
        if (slot == 0) for (let i = 0; i < 4; i++) v128.store(p + (<usize>i << 4), f32x4.splat(NaN));
        for (let i = 0; i < 4; i++) store<f32>(p + (<usize>i << 4) + (<usize>slot << 2), load<f32>(grid + (<usize>(4 * j + i) << 2)));
        store<i32>(p + 64 + (<usize>slot << 2), j);
        if (++slot == 4) { slot = 0; chunk++; }
      }
      last = d;
    }
    if (slot) chunk++;
    store<i32>(map + (<usize>u << 2), -(1 + ((first << 6) | (chunk - first))));
  }
  if (chunk != maxChunks) abort('iq3xs_init: neighbour table size differs from reserved');
}

const PTRS = memory.data(12, 16);

/**
 * For the tests (test/fast-iq3.test.ts compares the tables with kernels/ref/iq3-init.ts): builds
 * grid size gridSize's tables and returns where they are, three u32 addresses (grid, map, chunks).
 */
export function iq3InitTables(gridSize: i32): usize {
  iq3Init(gridSize);
  store<u32>(PTRS, <u32>(gridSize == 256 ? GRID_256 : GRID_512));
  store<u32>(PTRS, <u32>(gridSize == 256 ? MAP_256 : MAP_512), 4);
  store<u32>(PTRS, <u32>(gridSize == 256 ? CH_256 : CH_512), 8);
  return PTRS;
}
