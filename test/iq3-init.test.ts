/**
 * `iq3xsInit(256 | 512)` builds exactly upstream's `iq3xs_init_impl` grid, map and neighbour lists,
 * and the generated dequantization grids describe the same points.
 *
 * The digests were taken once from upstream's own init: the iq3_entry_t/iq3_data declarations
 * through `iq3xs_init_impl` cut out of ggml/src/ggml-quants.c (llama.cpp de3ff815) with sed, compiled
 * with gcc, and its iq3_data[] entry dumped as grid (gridSize × 4 int8) ‖ map (4096 × int32 LE) ‖
 * neighbours (uint16 LE, up to the end of the last list). The quantizer tests
 * (kernels-quantize-iq3-iq1.test.ts) then check the tables end to end against llama.cpp's bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { iq3xsInit } from '../kernels/ref/iq3-init.ts';
import { IQ3S_GRID, IQ3XXS_GRID, KGRID_IQ3S, KGRID_IQ3XXS } from '../kernels/ref/iq-grids/iq3-grids.ts';

const UPSTREAM_SHA256 = {
  256: '970a978af4a7ecb5c1974b03b0d8ef7e31f1188346557cba452874600187b93d',
  512: '9539fee5dbaa21d492b70baa999657991c05a153ac588f56e97b6dcd6023001d',
} as const;

for (const size of [256, 512] as const) {
  test(`iq3xsInit(${size}) equals upstream iq3xs_init_impl's grid, map and neighbours`, () => {
    const t = iq3xsInit(size);
    assert.equal(iq3xsInit(size), t, 'built once and cached');
    assert.equal(t.grid.length, 4 * size);
    assert.equal(t.map.length, 4096);
    const h = createHash('sha256');
    h.update(new Uint8Array(t.grid.buffer)).update(new Uint8Array(t.map.buffer)).update(new Uint8Array(t.neighbours.buffer));
    assert.equal(h.digest('hex'), UPSTREAM_SHA256[size]);
  });
}

test('the generated IQ3 dequantization grids are the init grids in value form', () => {
  const cases = [[IQ3XXS_GRID, KGRID_IQ3XXS, [4, 12, 20, 28, 36, 44, 52, 62]], [IQ3S_GRID, KGRID_IQ3S, [1, 3, 5, 7, 9, 11, 13, 15]]] as const;
  for (const [grid, kgrid, values] of cases) {
    assert.equal(grid.length, kgrid.length);
    for (let j = 0; j < kgrid.length; j++) {
      for (let k = 0; k < 4; k++) assert.equal((grid[j]! >>> (8 * k)) & 255, values[(kgrid[j]! >> (3 * k)) & 7], `point ${j} value ${k}`);
    }
  }
});
