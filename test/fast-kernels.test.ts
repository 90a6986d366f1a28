/**
 * The wasm kernels (in this thread, no pool) against llama.cpp's own quantizers and against the
 * JS reference path, on 2^20 values per type drawn from every hard input kind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadLlamaCpp, llamaCppUnavailable } from './support/llama-cpp.ts';
import { makeInputs, Rng } from './kernels-inputs.ts';
import { differingBlocks, differingFloats } from './kernels-oracle.ts';
import { loadWasmModule } from '../kernels/fast/wasm-module.ts';
import { WasmKernels, wasmKernelNames, PIECE_ELEMS } from '../kernels/fast/wasm-kernels.mjs';
import { quantizeRows, dequantize as refDequantize, canQuantize } from '../kernels/quant-table.ts';
import { ggmlType, GgmlTypeId } from '../kernels/ggml-types.ts';
import { fastSupports } from '../kernels/fast/index.ts';

const TYPES = ['F16', 'BF16', 'Q8_0', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K'] as const;
const N = 1 << 20;
const N_PER_ROW = 4096;
// Not a multiple of PIECE_ELEMS, so the copy-in/copy-out loop ends on a partial piece.
const N_ODD = PIECE_ELEMS * 3 + 256 * 7;

const kernels = new WasmKernels(loadWasmModule());
const inputs = makeInputs(0x5eed, N);

function wasmQuantize(id: number, src: Float32Array): Uint8Array {
  const t = ggmlType(id)!;
  const out = new Uint8Array((src.length / t.blockSize) * t.typeSize);
  kernels.quantize(t, src, 0, src.length, out, 0);
  return out;
}

function assertSameBlocks(got: Uint8Array, want: Uint8Array, id: number, what: string): void {
  const t = ggmlType(id)!;
  const bad = differingBlocks(got, want, t.typeSize);
  assert.equal(bad.length, 0, `${t.name}: ${bad.length} blocks differ from ${what}, first block ${bad[0]}`);
}

test('the module has a kernel pair for the listed types (geometry comes from the type table)', () => {
  const names = wasmKernelNames(loadWasmModule());
  for (const name of TYPES) assert.ok(names.has(name), `${name} has a wasm kernel pair`);
  // Any other pair is an i-quant's NULL-imatrix quantizer, proven in its own file (test/fast-iq*.test.ts).
  for (const name of names) assert.ok((TYPES as readonly string[]).includes(name) || name.startsWith('IQ'), `${name}: unexpected wasm kernel pair`);
  for (const name of TYPES) assert.ok(fastSupports(GgmlTypeId[name]), name);
  assert.equal(fastSupports(GgmlTypeId.IQ4_XS), false);
  assert.throws(() => kernels.quantize(ggmlType(GgmlTypeId.IQ4_XS)!, new Float32Array(256), 0, 256, new Uint8Array(136), 0), /no wasm kernel for ggml type IQ4_XS/);
});

for (const name of TYPES) {
  const id = GgmlTypeId[name];
  test(`${name}: wasm quantize is byte-identical to llama.cpp and to the reference on 2^20 hard values`, { skip: llamaCppUnavailable ?? false }, async () => {
    const ll = await loadLlamaCpp();
    const got = wasmQuantize(id, inputs);
    assertSameBlocks(got, ll.quantizeChunk(id, inputs, N / N_PER_ROW, N_PER_ROW), id, 'llama.cpp');
    if (canQuantize(id)) assertSameBlocks(got, quantizeRows(id, inputs, N / N_PER_ROW, N_PER_ROW), id, 'the JS reference');
    else assert.fail(`${name}: the JS reference has no quantizer to compare with`);
    const odd = inputs.subarray(0, N_ODD);
    assertSameBlocks(wasmQuantize(id, odd), ll.quantizeChunk(id, odd, N_ODD / 256, 256), id, 'llama.cpp (partial piece)');
  });

  test(`${name}: wasm dequantize matches llama.cpp bit for bit`, { skip: llamaCppUnavailable ?? false }, async () => {
    const ll = await loadLlamaCpp();
    const t = ggmlType(id)!;
    // Real quantized data, then random bytes (random scales include fp16 inf/NaN and subnormals).
    const real = ll.quantizeChunk(id, inputs, N / N_PER_ROW, N_PER_ROW);
    const rng = new Rng(17);
    const random = new Uint8Array((N_ODD / t.blockSize) * t.typeSize);
    for (let i = 0; i < random.length; i++) random[i] = rng.int(256);
    for (const [what, bytes, n] of [['quantized', real, N], ['random', random, N_ODD]] as const) {
      const got = new Float32Array(n);
      kernels.dequantize(t, bytes, 0, n, got, 0);
      const bad = differingFloats(got, ll.dequantize(id, bytes, n));
      assert.equal(bad.length, 0, `${name} ${what}: ${bad.length} floats differ from llama.cpp, first at ${bad[0]}`);
      const ref = refDequantize(id, bytes, n);
      const badRef = differingFloats(got, ref);
      assert.equal(badRef.length, 0, `${name} ${what}: ${badRef.length} floats differ from the JS reference, first at ${badRef[0]}`);
    }
  });
}

test('a missing .wasm build names the path and says to run npm run build', () => {
  assert.throws(() => loadWasmModule('/nonexistent/forge.wasm'), /\/nonexistent\/forge\.wasm.*npm run build/);
});

test('F16/BF16 rows whose length is not a multiple of the SIMD width (scalar tail)', { skip: llamaCppUnavailable ?? false }, async () => {
  const ll = await loadLlamaCpp();
  for (const name of ['F16', 'BF16'] as const) {
    const id = GgmlTypeId[name];
    for (const n of [1, 7, 1001]) {
      const src = inputs.subarray(4096, 4096 + n);
      const got = wasmQuantize(id, src);
      assertSameBlocks(got, ll.quantizeChunk(id, src, 1, n), id, `llama.cpp (n=${n})`);
      const back = new Float32Array(n);
      kernels.dequantize(ggmlType(id)!, got, 0, n, back, 0);
      assert.deepEqual(differingFloats(back, ll.dequantize(id, got, n)), [], `${name} dequantize n=${n}`);
    }
  }
});

/**
 * Shapes aimed at the SIMD shortcuts: sub-blocks of wildly different scale inside one block,
 * all-negative runs ending in 0 (max = 0, so a fitted min can sit far from the data), ramps
 * (many exact ties), single huge outliers next to subnormals, and isolated NaN/±inf.
 */
function adversarial(seed: number, n: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(n);
  for (let off = 0; off < n; off += 16) {
    const kind = rng.int(8);
    const scale = 10 ** (rng.int(40) - 30);
    for (let i = 0; i < 16; i++) {
      let v: number;
      switch (kind) {
        case 0: v = -Math.abs(rng.gauss()) * scale; break;
        case 1: v = i === 15 ? 0 : -Math.abs(rng.gauss()) * scale; break;
        case 2: v = (i - 7.5) * scale; break;
        case 3: v = i === 3 ? 1e20 * (rng.next() < 0.5 ? -1 : 1) : rng.gauss() * 1e-40; break;
        case 4: v = rng.next() < 0.1 ? [NaN, Infinity, -Infinity][rng.int(3)]! : rng.gauss() * scale; break;
        case 5: v = rng.gauss() * scale + 3 * scale; break;
        case 6: v = (rng.int(7) - 3) * 0.5 * scale; break;
        default: v = rng.gauss() * scale;
      }
      out[off + i] = v;
    }
  }
  return out;
}

test('K-quants and Q4_0/Q8_0 on 2^20 adversarial values: identical to llama.cpp', { skip: llamaCppUnavailable ?? false }, async () => {
  const ll = await loadLlamaCpp();
  const src = adversarial(99, N);
  for (const name of ['Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K', 'Q4_0', 'Q4_1', 'Q5_1', 'Q8_0'] as const) {
    const id = GgmlTypeId[name];
    assertSameBlocks(wasmQuantize(id, src), ll.quantizeChunk(id, src, N / N_PER_ROW, N_PER_ROW), id, 'llama.cpp (adversarial)');
  }
});

/**
 * Super-blocks where some sub-blocks are 10^-2..10^-7 of the others: their quantized scale rounds
 * to 0, so the block keeps the codes of the scale search itself (the winning candidate's, which the
 * wasm search recomputes from its iscale and min instead of copying). Sub-blocks are offset
 * (all-positive, all-negative, mixed) so the fitted min and the winner vary; some hold exact ties.
 */
function smallSubBlocks(seed: number, n: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(n);
  for (let b = 0; b < n; b += 256) {
    const sub = rng.next() < 0.5 ? 16 : 32;
    for (let s = 0; s < 256; s += sub) {
      const small = rng.next() < 0.3 ? 10 ** -(2 + rng.int(6)) : 1;
      const offset = [0, 1.5, -1.5, 0.3][rng.int(4)]!;
      const ties = rng.next() < 0.2;
      for (let i = 0; i < sub; i++) {
        const v = ties ? (rng.int(17) - 8) / 4 : rng.gauss();
        out[b + s + i] = (v + offset) * 0.02 * small;
      }
    }
  }
  return out;
}

test('K-quants whose small sub-blocks keep the search codes (scale rounds to 0): identical to llama.cpp', { skip: llamaCppUnavailable ?? false }, async () => {
  const ll = await loadLlamaCpp();
  const n = 1 << 18;
  const src = smallSubBlocks(7, n);
  for (const name of ['Q2_K', 'Q4_K', 'Q5_K', 'Q6_K'] as const) {
    const id = GgmlTypeId[name];
    assertSameBlocks(wasmQuantize(id, src), ll.quantizeChunk(id, src, n / N_PER_ROW, N_PER_ROW), id, 'llama.cpp (small sub-blocks)');
  }
});
