// `iq2xs_init_impl(type)` (ggml-quants.c) in wasm: the search tables of the IQ2_XXS (256 points),
// IQ2_XS (512), IQ2_S (1024) and IQ1_S/IQ1_M (2048) quantizers, the same bytes as
// kernels/ref/iq2-init.ts builds:
//   grid        int8 × 8 per point: coordinate k of point j at grid + 8j + k, value 2l + 1;
//   map         i32[IQ2_MAP_SIZE]: a lattice index's point number, or −(offset + 1) of its list;
//   neighbours  u16: at each offset a count n, then n point numbers ordered by (distance, point).
// Each size is built on first use in this instance, as `ggml_quantize_init` does. The tables are
// static data (memory.data): the host owns everything above heapBase().
import {
  KGRID_2BIT_256, KGRID_2BIT_512, KGRID_2BIT_1024, KGRID_1BIT_2048,
  IQ2_NEIGHBOURS_LEN_256, IQ2_NEIGHBOURS_LEN_512, IQ2_NEIGHBOURS_LEN_1024, IQ2_NEIGHBOURS_LEN_2048,
} from './iq2-grids';

/** kmap_size: every index with codes ≤ 2 fits below 0xAAAA + 2. */
export const IQ2_MAP_SIZE: i32 = 43692;

const GRID_256 = memory.data(8 * 256, 16);
const GRID_512 = memory.data(8 * 512, 16);
const GRID_1024 = memory.data(8 * 1024, 16);
const GRID_2048 = memory.data(8 * 2048, 16);
const MAP_256 = memory.data(4 * IQ2_MAP_SIZE, 16);
const MAP_512 = memory.data(4 * IQ2_MAP_SIZE, 16);
const MAP_1024 = memory.data(4 * IQ2_MAP_SIZE, 16);
const MAP_2048 = memory.data(4 * IQ2_MAP_SIZE, 16);
const NB_256 = memory.data(2 * IQ2_NEIGHBOURS_LEN_256, 16);
const NB_512 = memory.data(2 * IQ2_NEIGHBOURS_LEN_512, 16);
const NB_1024 = memory.data(2 * IQ2_NEIGHBOURS_LEN_1024, 16);
const NB_2048 = memory.data(2 * IQ2_NEIGHBOURS_LEN_2048, 16);

/** Init scratch: the grid codes transposed (coordinate k of point j at TCODES + k·size + j)… */
const TCODES = memory.data(8 * 2048, 16);
/** …and one index's squared code distances to every point (≤ 8·3² = 72, so a byte each). */
const DIST = memory.data(2048, 16);
/** e² for a code difference |e| ≤ 3 (the swizzle's lookup table). */
const SQUARES = memory.data<u8>([0, 1, 4, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 16);

let built: i32 = 0;

// @ts-ignore: decorator
@inline function slot(size: i32): i32 {
  return size == 256 ? 0 : size == 512 ? 1 : size == 1024 ? 2 : size == 2048 ? 3 : -1;
}

function checkedSlot(size: i32): i32 {
  const s = slot(size);
  if (s < 0) abort('iq2 init: no lattice of that size (256, 512, 1024 or 2048 points)');
  if (!(built & (1 << s))) build(s);
  return s;
}

/** The int8 search grid of a lattice (built on first use). */
export function iq2Grid(size: i32): usize {
  const s = checkedSlot(size);
  return s == 0 ? GRID_256 : s == 1 ? GRID_512 : s == 2 ? GRID_1024 : GRID_2048;
}

/** The i32 index → point / −(neighbour offset + 1) map of a lattice (built on first use). */
export function iq2Map(size: i32): usize {
  const s = checkedSlot(size);
  return s == 0 ? MAP_256 : s == 1 ? MAP_512 : s == 2 ? MAP_1024 : MAP_2048;
}

/** The u16 neighbour lists of a lattice (built on first use). */
export function iq2Neighbours(size: i32): usize {
  const s = checkedSlot(size);
  return s == 0 ? NB_256 : s == 1 ? NB_512 : s == 2 ? NB_1024 : NB_2048;
}

/** Length in u16 of iq2Neighbours(size). */
export function iq2NeighboursLength(size: i32): i32 {
  const s = checkedSlot(size);
  return s == 0 ? IQ2_NEIGHBOURS_LEN_256 : s == 1 ? IQ2_NEIGHBOURS_LEN_512 : s == 2 ? IQ2_NEIGHBOURS_LEN_1024 : IQ2_NEIGHBOURS_LEN_2048;
}

/** Horizontal minimum of 16 unsigned bytes. */
// @ts-ignore: decorator
@inline function minU8(v: v128): i32 {
  v = i8x16.min_u(v, i8x16.shuffle(v, v, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7));
  v = i8x16.min_u(v, i8x16.shuffle(v, v, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3));
  v = i8x16.min_u(v, i8x16.shuffle(v, v, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1));
  v = i8x16.min_u(v, i8x16.shuffle(v, v, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0));
  return i8x16.extract_lane_u(v, 0);
}

// @ts-ignore: decorator
@inline function sq(c: usize, p: v128): v128 {
  return i8x16.swizzle(v128.load(SQUARES), i8x16.abs(i8x16.sub(v128.load(c), p)));
}

function build(s: i32): void {
  const size = 256 << s;
  const kgrid = s == 0 ? KGRID_2BIT_256 : s == 1 ? KGRID_2BIT_512 : s == 2 ? KGRID_2BIT_1024 : KGRID_1BIT_2048;
  const grid = s == 0 ? GRID_256 : s == 1 ? GRID_512 : s == 2 ? GRID_1024 : GRID_2048;
  const map = s == 0 ? MAP_256 : s == 1 ? MAP_512 : s == 2 ? MAP_1024 : MAP_2048;
  const nb = s == 0 ? NB_256 : s == 1 ? NB_512 : s == 2 ? NB_1024 : NB_2048;
  const cap = s == 0 ? IQ2_NEIGHBOURS_LEN_256 : s == 1 ? IQ2_NEIGHBOURS_LEN_512 : s == 2 ? IQ2_NEIGHBOURS_LEN_1024 : IQ2_NEIGHBOURS_LEN_2048;
  const nwant = s == 2 ? 1 : s == 3 ? 3 : 2;
  const sz = <usize>size;

  memory.fill(map, 0xff, <usize>IQ2_MAP_SIZE << 2); // every index −1
  for (let j = 0; j < size; j++) {
    const g = <i32>load<u16>(kgrid + (<usize>j << 1));
    for (let k = 0; k < 8; k++) {
      const l = (g >> (2 * k)) & 3;
      store<i8>(grid + (<usize>j << 3) + k, <i8>(2 * l + 1));
      store<u8>(TCODES + <usize>k * sz + j, <u8>l);
    }
    store<i32>(map + (<usize>g << 2), j);
  }

  // Upstream sorts all (d², j) pairs of an off-lattice index and keeps the prefix covering nwant
  // distinct distances, ties by j. Here: the distances of 16 points at a time in bytes (in code
  // units, d²/4, which orders the same), then the nwant smallest distinct values by masked minima,
  // then for each of them the points at that distance in ascending j.
  let total = 0;
  for (let i = 0; i < IQ2_MAP_SIZE; i++) {
    if (load<i32>(map + (<usize>i << 2)) >= 0) continue;
    const p0 = i8x16.splat(<i8>(i & 3)), p1 = i8x16.splat(<i8>((i >> 2) & 3)), p2 = i8x16.splat(<i8>((i >> 4) & 3)), p3 = i8x16.splat(<i8>((i >> 6) & 3));
    const p4 = i8x16.splat(<i8>((i >> 8) & 3)), p5 = i8x16.splat(<i8>((i >> 10) & 3)), p6 = i8x16.splat(<i8>((i >> 12) & 3)), p7 = i8x16.splat(<i8>((i >> 14) & 3));
    let vmin = i8x16.splat(-1);
    for (let j: usize = 0; j < sz; j += 16) {
      const c = TCODES + j;
      const a = i8x16.add(i8x16.add(sq(c, p0), sq(c + sz, p1)), i8x16.add(sq(c + 2 * sz, p2), sq(c + 3 * sz, p3)));
      const b = i8x16.add(i8x16.add(sq(c + 4 * sz, p4), sq(c + 5 * sz, p5)), i8x16.add(sq(c + 6 * sz, p6), sq(c + 7 * sz, p7)));
      const d = i8x16.add(a, b);
      v128.store(DIST + j, d);
      vmin = i8x16.min_u(vmin, d);
    }
    const start = total;
    let n = 0;
    let next = minU8(vmin);
    for (let have = 0; have < nwant && next < 255; have++) {
      const want = next;
      const w = i8x16.splat(<i8>want);
      let above = i8x16.splat(-1);
      for (let j: usize = 0; j < sz; j += 16) {
        const d = v128.load(DIST + j);
        let m = i8x16.bitmask(i8x16.eq(d, w));
        while (m) {
          if (start + 1 + n >= cap) abort('iq2 init: neighbour table overflow');
          store<u16>(nb + (<usize>(start + 1 + n) << 1), <u16>(<i32>j + ctz(m)));
          n++;
          m &= m - 1;
        }
        above = i8x16.min_u(above, v128.bitselect(d, i8x16.splat(-1), i8x16.gt_u(d, w)));
      }
      next = minU8(above);
    }
    store<u16>(nb + (<usize>start << 1), <u16>n);
    store<i32>(map + (<usize>i << 2), -(start + 1));
    total = start + 1 + n;
  }
  if (total != cap) abort('iq2 init: neighbour table length differs from the generated one');
  built |= 1 << s;
}
