/**
 * The wasm `iq2xs_init_impl` (kernels/wasm/assembly/iq2-init.ts): for every lattice size, the grid,
 * map and neighbour tables it builds in a fresh instance are byte for byte those of the reference
 * kernels/ref/iq2-init.ts (which test/iq2-init.test.ts checks against upstream's own init by digest;
 * the same digests are checked here), and they are built once and kept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { loadWasmModule } from '../kernels/fast/wasm-module.ts';
import { iq2Tables, IQ2_MAP_SIZE } from '../kernels/ref/iq2-init.ts';

/** sha256(grid ‖ map ‖ neighbours) of upstream's tables, as in test/iq2-init.test.ts. */
const UPSTREAM_SHA256 = {
  256: '23b733b64623cb8e7886078186324daefaeaa27695574227a9796d614650e9eb',
  512: 'e493b246e244a6dcec613055a20d1b72e3d3bf6b36e4c2fc7506ffc2d39d6904',
  1024: '7e47bd57b77f91ffc401b243892e0125daa4d51d049a9501f7ca5cfb4d112f21',
  2048: '31d2740db4e84e81da03ae31eb11ce6e3ff9f5711ac49df4197ac4b0988149da',
} as const;

interface InitExports {
  memory: { buffer: ArrayBuffer };
  iq2Grid(size: number): number;
  iq2Map(size: number): number;
  iq2Neighbours(size: number): number;
  iq2NeighboursLength(size: number): number;
  heapBase(): number;
}

function instance(): InitExports {
  const Wasm = (globalThis as unknown as { WebAssembly: { Instance: new (m: unknown, imports: object) => { exports: InitExports } } }).WebAssembly;
  return new Wasm.Instance(loadWasmModule(), { env: { abort: () => { throw new Error('wasm abort'); } } }).exports;
}

for (const size of [256, 512, 1024, 2048] as const) {
  test(`wasm iq2 init (${size} points) equals the reference tables and upstream's digest`, () => {
    const w = instance();
    const gridPtr = w.iq2Grid(size), mapPtr = w.iq2Map(size), nbPtr = w.iq2Neighbours(size);
    const nbLen = w.iq2NeighboursLength(size);
    // Static data: below the host's region, and the same tables on a second call (built once).
    assert.ok(nbPtr + 2 * nbLen <= w.heapBase() && mapPtr + 4 * IQ2_MAP_SIZE <= w.heapBase() && gridPtr + 8 * size <= w.heapBase());
    assert.equal(w.iq2Map(size), mapPtr);
    const buf = w.memory.buffer;
    const grid = new Int8Array(buf, gridPtr, 8 * size);
    const map = new Int32Array(buf, mapPtr, IQ2_MAP_SIZE);
    const nb = new Uint16Array(buf, nbPtr, nbLen);
    const ref = iq2Tables(size);
    assert.deepEqual(grid, ref.grid, 'grid');
    assert.deepEqual(map, ref.map, 'map');
    assert.deepEqual(nb, ref.neighbours, 'neighbours');
    const h = createHash('sha256');
    h.update(new Uint8Array(buf, gridPtr, 8 * size)).update(new Uint8Array(buf, mapPtr, 4 * IQ2_MAP_SIZE)).update(new Uint8Array(buf, nbPtr, 2 * nbLen));
    assert.equal(h.digest('hex'), UPSTREAM_SHA256[size]);
  });
}

test('wasm iq2 init refuses a lattice size it does not have', () => {
  assert.throws(() => instance().iq2Grid(300), /wasm abort/);
});
