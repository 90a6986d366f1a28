/**
 * Issue 13 (per-tensor bytes) for IQ2_XXS, IQ2_XS and IQ2_S: with an importance matrix our
 * quantizers give the bytes of llama.cpp's `ggml_quantize_chunk(type, src, dst, 0, nrows,
 * n_per_row, imatrix)` after `ggml_quantize_init(type)` — on 1M hard values per type, with imatrix
 * vectors that include zeros, huge ratios, all-zero and tiny columns; 0 differing blocks. IQ2_S also
 * without an imatrix (ggml accepts NULL for it). Our dequantizers match `to_float` bit for bit.
 *
 * Where llama.cpp aborts (a group whose every neighbour is at an infinite or NaN distance: x² or
 * the weights overflow, or NaN input), ours throws: those inputs run in a child process for
 * llama.cpp and are kept out of the byte comparison.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLlamaCpp, llamaCppUnavailable } from './support/llama-cpp.ts';
import { canQuantize, dequantize, quantizeRows, quantKernel, requiresImatrix } from '../kernels/quant-table.ts';
import { ggmlType, GgmlTypeId } from '../kernels/ggml-types.ts';
import { INPUT_KINDS, makeInputs, randomScaledBlocks, type InputKind } from './kernels-inputs.ts';
import { IMATRIX_KINDS, importance } from './imatrix-inputs.ts';
import { differingBlocks, differingFloats, hex } from './kernels-oracle.ts';
import { writeLlamaGguf } from './quantize-fixtures.ts';
import { planQuantize } from '../src/pipeline/plan-quantize.ts';
import { UnsupportedError } from '../formats/errors.ts';
import { createQuantizer } from '../kernels/fast/index.ts';

const N = 1 << 20;
/** Kinds on which llama.cpp's IQ2_XS/IQ2_S abort (see the last tests); IQ2_XXS survives them. */
const ABORTING: readonly InputKind[] = ['huge', 'non-finite'];
const TYPES = [
  { name: 'IQ2_XXS', kinds: INPUT_KINDS },
  { name: 'IQ2_XS', kinds: INPUT_KINDS.filter((k) => !ABORTING.includes(k)) },
  { name: 'IQ2_S', kinds: INPUT_KINDS.filter((k) => !ABORTING.includes(k)) },
] as const;

function assertSameBlocks(what: string, ours: Uint8Array, theirs: Uint8Array, typeSize: number): void {
  const bad = differingBlocks(ours, theirs, typeSize);
  const f = bad[0];
  assert.equal(bad.length, 0, `${what}: ${bad.length} of ${ours.length / typeSize} blocks differ` +
    (f === undefined ? '' : `; first block ${f}: ours ${hex(ours.subarray(f * typeSize, (f + 1) * typeSize))}, llama.cpp ${hex(theirs.subarray(f * typeSize, (f + 1) * typeSize))}`));
}

function assertSameFloats(what: string, ours: Float32Array, theirs: Float32Array): void {
  const bad = differingFloats(ours, theirs);
  const i = bad[0];
  assert.equal(bad.length, 0, `${what}: ${bad.length} of ${ours.length} values differ` +
    (i === undefined ? '' : `; first at ${i}: ours ${ours[i]}, llama.cpp ${theirs[i]}`));
}

for (const { name, kinds } of TYPES) {
  const id = GgmlTypeId[name];
  test(`${name} with an imatrix: ${N} values give llama.cpp's bytes, and dequantize as to_float does`, async (t) => {
    if (llamaCppUnavailable) return t.skip(llamaCppUnavailable);
    const ll = await loadLlamaCpp();
    ll.quantizeInit(id);
    const type = ggmlType(id)!;
    for (const nPerRow of [4096, 256]) {
      const per = Math.ceil(N / 2 / IMATRIX_KINDS.length / nPerRow);
      for (const [k, kind] of IMATRIX_KINDS.entries()) {
        const seed = id * 100 + k + nPerRow;
        const src = makeInputs(seed, per * nPerRow, kinds);
        const qw = importance(kind, nPerRow, seed);
        const ours = quantizeRows(id, src, per, nPerRow, qw);
        const theirs = ll.quantizeChunk(id, src, per, nPerRow, qw);
        assertSameBlocks(`${name} nPerRow=${nPerRow} imatrix=${kind}`, ours, theirs, type.typeSize);
        if (k % 3 === 0) assertSameFloats(`${name} dequantize`, dequantize(id, theirs, per * nPerRow), ll.dequantize(id, theirs, per * nPerRow));
      }
    }
  });
}

test(`IQ2_S without an imatrix (quant_weights NULL): ${N / 4} values give llama.cpp's bytes`, async (t) => {
  if (llamaCppUnavailable) return t.skip(llamaCppUnavailable);
  const ll = await loadLlamaCpp();
  const id = GgmlTypeId.IQ2_S;
  ll.quantizeInit(id);
  const src = makeInputs(2222, N / 4, TYPES[2].kinds);
  assertSameBlocks('IQ2_S plain', quantizeRows(id, src, N / 4 / 1024, 1024), ll.quantizeChunk(id, src, N / 4 / 1024, 1024), 82);
});

test('IQ2 dequantizers: random block bytes (every code is valid) match to_float bit for bit', async (t) => {
  if (llamaCppUnavailable) return t.skip(llamaCppUnavailable);
  const ll = await loadLlamaCpp();
  for (const { name } of TYPES) {
    const type = ggmlType(GgmlTypeId[name])!;
    const nBlocks = 1024;
    const bytes = randomScaledBlocks(type.typeSize, nBlocks, 4000 + type.id);
    const n = nBlocks * 256;
    assertSameFloats(`${name} random bytes`, dequantize(type.id, bytes, n), ll.dequantize(type.id, bytes, n));
  }
});

test('IQ2_XXS and IQ2_XS require an imatrix (ggml_quantize_requires_imatrix); IQ2_S does not', () => {
  const src = makeInputs(5, 1024);
  for (const id of [GgmlTypeId.IQ2_XXS, GgmlTypeId.IQ2_XS]) {
    const k = quantKernel(id)!;
    assert.equal(k.requiresImatrix, true);
    assert.equal(k.quantize, undefined, 'no plain quantizer');
    assert.ok(k.quantizeImatrix && k.dequantize && canQuantize(id) && requiresImatrix(id));
    assert.throws(() => quantizeRows(id, src, 4, 256), (e: unknown) => e instanceof RangeError && /requires an importance matrix/.test(e.message));
  }
  const s = quantKernel(GgmlTypeId.IQ2_S)!;
  assert.ok(s.quantize && s.quantizeImatrix && !requiresImatrix(GgmlTypeId.IQ2_S));
  assert.equal(quantizeRows(GgmlTypeId.IQ2_S, src, 4, 256).length, 4 * 82);
  // The imatrix is not ignored.
  const qw = importance('huge-ratios', 256, 3);
  assert.notDeepEqual(quantizeRows(GgmlTypeId.IQ2_S, src, 4, 256, qw), quantizeRows(GgmlTypeId.IQ2_S, src, 4, 256));
  assert.throws(() => quantKernel(GgmlTypeId.IQ2_XS)!.quantizeImatrix!(src, new Uint8Array(4 * 74), 4, 256, new Float32Array(128)), /importance matrix has 128 values, need 256/);
});

const CHILD = fileURLToPath(new URL('./support/quantize-chunk-child.mjs', import.meta.url));

/** Runs llama.cpp's quantizer on `src` (rows of 256) in a child process: its exit and stderr. */
function llamaInChild(binsDir: string, id: number, src: Float32Array): Promise<{ signal: string | null; code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, binsDir, String(id), String(src.length / 256), '256'], { stdio: ['pipe', 'ignore', 'pipe'], env: { ...process.env, GGML_NO_BACKTRACE: '1' } });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
    child.stdin.end(new Uint8Array(src.buffer, src.byteOffset, src.byteLength));
  });
}

test('IQ2_XS and IQ2_S: where llama.cpp aborts (overflowing or NaN inputs), ours throws instead of returning bytes', async (t) => {
  if (llamaCppUnavailable) return t.skip(llamaCppUnavailable);
  const { binsDir } = await loadLlamaCpp();
  // One child only: its ggml_quantize_init alone costs seconds of CPU (upstream qsorts the whole
  // grid for each of ~42k off-lattice points); IQ2_S aborts the same way on 'huge' (checked by hand).
  const child = llamaInChild(binsDir, GgmlTypeId.IQ2_XS, makeInputs(77, 4 * 256, ['non-finite']));
  for (const id of [GgmlTypeId.IQ2_XS, GgmlTypeId.IQ2_S]) {
    for (const kind of ABORTING) {
      const src = makeInputs(77, 4 * 256, [kind]);
      assert.throws(() => quantizeRows(id, src, 4, 256, new Float32Array(256).fill(1)), /no neighbour at a finite distance/);
    }
  }
  const r = await child;
  assert.equal(r.signal, 'SIGABRT', `IQ2_XS non-finite: llama.cpp exited ${r.code} ${r.signal}: ${r.stderr.slice(-300)}`);
  assert.match(r.stderr, /GGML_ASSERT\(grid_index >= 0\) failed/);
});

test('a quantize plan that sends a tensor to IQ2_XXS, IQ2_XS or IQ2_S without an imatrix is refused up front with llama.cpp\'s message', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'forge-iq2-'));
  try {
    const input = join(dir, 'in.gguf');
    await writeLlamaGguf(input, { nLayer: 1, nEmbd: 256, nFf: 512, nHead: 4, nHeadKv: 4, tied: true });
    const plan = async (override: string) => {
      const g = planQuantize({ input, output: join(dir, 'out.gguf'), fileType: 'q8_0', overrides: [override] });
      let r = await g.next();
      while (!r.done) r = await g.next();
      return r.value;
    };
    // IQ2_S quantizes without one in ggml, but llama-quantize's tensor_requires_imatrix refuses it too.
    for (const o of ['attn_q=iq2_xxs', 'attn_q=iq2_xs', 'attn_q=iq2_s']) {
      await assert.rejects(plan(o), (e: unknown) => e instanceof UnsupportedError && e.code === 'IMATRIX_REQUIRED' &&
        /this quantization requires an imatrix! offending tensor: blk\.0\.attn_q\.weight, target type: IQ2_/.test(e.message));
    }
    // The kernel itself (ggml_quantize_chunk with a NULL imatrix) accepts IQ2_S.
    assert.equal(quantizeRows(GgmlTypeId.IQ2_S, new Float32Array(256).fill(0.5), 1, 256).length, ggmlType(GgmlTypeId.IQ2_S)!.typeSize);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the worker pool quantizes and dequantizes IQ2_S (the wasm kernels in the workers, see test/fast-iq2.test.ts) to the same bytes', async () => {
  const q = await createQuantizer({ threads: 2 });
  try {
    const src = makeInputs(31, 8 * 1024, TYPES[2].kinds);
    const bytes = await q.quantize(GgmlTypeId.IQ2_S, src, 8, 1024);
    assert.deepEqual(bytes, quantizeRows(GgmlTypeId.IQ2_S, src, 8, 1024));
    assertSameFloats('IQ2_S pool dequantize', await q.dequantize(GgmlTypeId.IQ2_S, bytes, src.length), dequantize(GgmlTypeId.IQ2_S, bytes, src.length));
    // IQ2_XXS has no plain quantizer, so the pool (which takes no imatrix) refuses it.
    await assert.rejects(q.quantize(GgmlTypeId.IQ2_XXS, src.subarray(0, 256), 1, 256), /no quantizer for ggml type IQ2_XXS/);
  } finally {
    await q.close();
  }
});
