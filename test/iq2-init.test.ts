/**
 * The IQ2/IQ1 lattice tables: the generated grids agree with each other, and `iq2Tables(size)`
 * builds exactly upstream's `iq2xs_init_impl` grid, map and neighbour lists.
 *
 * The digests below were taken once from upstream's own init: `iq2xs_init_impl` cut out of
 * ggml/src/ggml-quants.c (llama.cpp de3ff815), compiled with gcc, and its iq2_data[] entry dumped as
 * grid (gridSize × 8 int8) ‖ map (43692 × int32 LE) ‖ neighbours (uint16 LE, up to the end of the
 * last list). The quantizer tests then check the same tables end to end against llama.cpp's bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { iq2Tables, IQ2_MAP_SIZE, type Iq2GridSize } from '../kernels/ref/iq2-init.ts';
import {
  IQ1S_GRID, IQ2S_GRID, IQ2XS_GRID, IQ2XXS_GRID, KGRID_1BIT_2048, KGRID_2BIT_1024, KGRID_2BIT_256, KGRID_2BIT_512, KSIGNS_IQ2XS,
} from '../kernels/ref/iq-grids/iq2-grids.ts';

const UPSTREAM_SHA256: Record<Iq2GridSize, string> = {
  256: '23b733b64623cb8e7886078186324daefaeaa27695574227a9796d614650e9eb',
  512: 'e493b246e244a6dcec613055a20d1b72e3d3bf6b36e4c2fc7506ffc2d39d6904',
  1024: '7e47bd57b77f91ffc401b243892e0125daa4d51d049a9501f7ca5cfb4d112f21',
  2048: '31d2740db4e84e81da03ae31eb11ce6e3ff9f5711ac49df4197ac4b0988149da',
};

for (const size of [256, 512, 1024, 2048] as const) {
  test(`iq2Tables(${size}) equals upstream iq2xs_init_impl's grid, map and neighbours`, () => {
    const t = iq2Tables(size);
    assert.equal(iq2Tables(size), t, 'built once and cached');
    assert.equal(t.grid.length, 8 * size);
    assert.equal(t.map.length, IQ2_MAP_SIZE);
    const h = createHash('sha256');
    h.update(new Uint8Array(t.grid.buffer)).update(new Uint8Array(t.map.buffer)).update(new Uint8Array(t.neighbours.buffer));
    assert.equal(h.digest('hex'), UPSTREAM_SHA256[size]);
    // Every off-lattice index points at a non-empty list of lattice points.
    for (let i = 0; i < IQ2_MAP_SIZE; i++) {
      const m = t.map[i]!;
      if (m >= 0) continue;
      const n = t.neighbours[-m - 1]!;
      assert.ok(n > 0 && -m - 1 + n < t.neighbours.length);
    }
  });
}

test('the generated dequantization grids are the init lattices in value form', () => {
  // 2-bit codes 0, 1, 2 dequantize to 8, 25, 43 (IQ2 grids) and to −1, 0, +1 (IQ1_S grid).
  const cases = [[IQ2XXS_GRID, KGRID_2BIT_256, [8, 25, 43]], [IQ2XS_GRID, KGRID_2BIT_512, [8, 25, 43]],
    [IQ2S_GRID, KGRID_2BIT_1024, [8, 25, 43]], [IQ1S_GRID, KGRID_1BIT_2048, [-1, 0, 1]]] as const;
  for (const [grid, kgrid, values] of cases) {
    assert.equal(grid.length, 8 * kgrid.length);
    for (let j = 0; j < kgrid.length; j++) {
      for (let k = 0; k < 8; k++) assert.equal(grid[8 * j + k], values[(kgrid[j]! >> (2 * k)) & 3], `point ${j} coordinate ${k}`);
    }
  }
  // ksigns_iq2xs: 7 sign bits plus an 8th that makes the count of set bits even.
  for (let i = 0; i < 128; i++) {
    let bits = 0;
    for (let v = KSIGNS_IQ2XS[i]!; v; v >>= 1) bits += v & 1;
    assert.equal(KSIGNS_IQ2XS[i]! & 127, i);
    assert.equal(bits % 2, 0);
  }
});
