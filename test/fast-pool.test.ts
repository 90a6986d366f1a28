/**
 * The worker-thread Quantizer (kernels/fast): same bytes as llama.cpp for every type whatever the
 * thread count, row shape or job split; shared and ordinary input memory; the JS-reference
 * fallback inside the workers; and loud failures for bad calls.
 */
import { test, after } from 'node:test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { loadLlamaCpp, llamaCppUnavailable } from './support/llama-cpp.ts';
import { makeInputs } from './kernels-inputs.ts';
import { differingBlocks, differingFloats } from './kernels-oracle.ts';
import { createQuantizer, fastSupports, sharedFloat32Array, type Quantizer } from '../kernels/fast/index.ts';
import { ggmlType, GgmlTypeId } from '../kernels/ggml-types.ts';

const TYPES = ['F16', 'BF16', 'Q8_0', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K'] as const;
const N = 1 << 20;
const inputs = makeInputs(0xfa57, N);
type FastQuantizer = Awaited<ReturnType<typeof createQuantizer>>;
const open: Quantizer[] = [];
after(async () => { await Promise.all(open.map((q) => q.close())); });

async function quantizer(opts: Parameters<typeof createQuantizer>[0]): Promise<FastQuantizer> {
  const q = await createQuantizer(opts);
  open.push(q);
  return q;
}

function assertSame(got: Uint8Array, want: Uint8Array, id: number, what: string): void {
  const t = ggmlType(id)!;
  assert.equal(got.length, want.length, `${t.name} ${what}: length`);
  const bad = differingBlocks(got, want, t.typeSize);
  assert.equal(bad.length, 0, `${t.name} ${what}: ${bad.length} blocks differ from llama.cpp, first ${bad[0]}`);
}

const skip = llamaCppUnavailable ?? false;

test('fastSupports covers the twelve listed types', () => {
  for (const name of TYPES) assert.equal(fastSupports(GgmlTypeId[name]), true, name);
});

// Thread counts and row shapes: 1 thread; 2 threads with long rows; 3 threads (uneven split) with
// short rows; and the calling thread working as one of them (callerWorks: no worker at 1 thread, one
// worker beside this thread at 2). Output must not depend on any of them.
const SHAPES = [
  { threads: 1, nPerRow: 4096, callerWorks: false },
  { threads: 2, nPerRow: 1024 * 11, callerWorks: false },
  { threads: 3, nPerRow: 256, callerWorks: false },
  { threads: 1, nPerRow: 2048, callerWorks: true },
  { threads: 2, nPerRow: 1024 * 3, callerWorks: true },
] as const;

for (const { threads, nPerRow, callerWorks } of SHAPES) {
  test(`${threads} thread(s)${callerWorks ? ' with the calling thread working' : ''}, rows of ${nPerRow}: every type byte-identical to llama.cpp, quantize and dequantize`, { skip }, async () => {
    const ll = await loadLlamaCpp();
    const q = await quantizer({ threads, callerWorks });
    assert.equal(q.threads, threads);
    const nrows = Math.floor(N / nPerRow);
    const src = inputs.subarray(0, nrows * nPerRow);
    for (const name of TYPES) {
      const id = GgmlTypeId[name];
      const want = ll.quantizeChunk(id, src, nrows, nPerRow);
      const got = await q.quantize(id, src, nrows, nPerRow);
      assertSame(got, want, id, `${threads} threads`);
      const back = await q.dequantize(id, want, src.length);
      const bad = differingFloats(back, ll.dequantize(id, want, src.length));
      assert.equal(bad.length, 0, `${name}: dequantize differs at ${bad.length} floats, first ${bad[0]}`);
    }
  });
}

test('input on a SharedArrayBuffer at an offset, concurrent calls, and a tiny call', { skip }, async () => {
  const ll = await loadLlamaCpp();
  const q = await quantizer({ threads: 2 });
  const shared = new Float32Array(new SharedArrayBuffer((N + 64) * 4), 64 * 4, N);
  shared.set(inputs);
  const ids = [GgmlTypeId.Q5_K, GgmlTypeId.Q8_0, GgmlTypeId.Q6_K, GgmlTypeId.Q4_0];
  const results = await Promise.all(ids.map((id) => q.quantize(id, shared, N / 2048, 2048)));
  ids.forEach((id, i) => assertSame(results[i]!, ll.quantizeChunk(id, inputs, N / 2048, 2048), id, 'shared input'));
  // Each result owns its memory: a later call must not overwrite an earlier result.
  const again = await q.quantize(GgmlTypeId.Q5_K, shared.subarray(0, 4096), 1, 4096);
  assert.notEqual(again.buffer, results[0]!.buffer);
  assertSame(results[0]!, ll.quantizeChunk(GgmlTypeId.Q5_K, inputs, N / 2048, 2048), GgmlTypeId.Q5_K, 'earlier result kept');
  const one = inputs.subarray(256 * 9, 256 * 10);
  assertSame(await q.quantize(GgmlTypeId.Q3_K, one, 1, 256), ll.quantizeChunk(GgmlTypeId.Q3_K, one, 1, 256), GgmlTypeId.Q3_K, 'one block');
});

test('reference mode runs the JS reference inside the workers (and in the calling thread when it works), with the same bytes', { skip }, async () => {
  const ll = await loadLlamaCpp();
  for (const opts of [{ threads: 2 }, { threads: 2, callerWorks: true }, { threads: 1, callerWorks: true }]) {
    const q = await quantizer({ ...opts, reference: true });
    const src = inputs.subarray(0, 1 << 17);
    for (const name of ['Q4_0', 'Q6_K', 'F16'] as const) {
      const id = GgmlTypeId[name];
      assertSame(await q.quantize(id, src, 32, 4096), ll.quantizeChunk(id, src, 32, 4096), id, `reference mode ${JSON.stringify(opts)}`);
    }
  }
});

test('bad calls reject with a clear error instead of returning bytes', async () => {
  const q = await quantizer({ threads: 1 });
  await assert.rejects(q.quantize(GgmlTypeId.Q4_K, inputs, 1, 100), /multiple of block size 256/);
  await assert.rejects(q.quantize(GgmlTypeId.Q8_0, inputs.subarray(0, 64), 4, 32), /source has 64 floats, need 128/);
  await assert.rejects(q.quantize(999, inputs, 1, 32), /unknown ggml type 999/);
  await assert.rejects(q.quantize(GgmlTypeId.IQ2_XXS, inputs.subarray(0, 256), 1, 256), /no quantizer for ggml type IQ2_XXS/);
  await assert.rejects(q.dequantize(GgmlTypeId.Q6_K, new Uint8Array(100), 256), /source has 100 bytes, need 210/);
  await assert.rejects(createQuantizer({ threads: 0 }), /threads must be a positive integer/);
  await q.close();
  await assert.rejects(q.quantize(GgmlTypeId.Q8_0, inputs, 1, 32), /closed/);
});

test('idle workers do not keep the process alive: a script that never calls close() exits', () => {
  const index = new URL('../kernels/fast/index.ts', import.meta.url).href;
  const script = `import { createQuantizer } from '${index}';
    const q = await createQuantizer({ threads: 2 });
    const out = await q.quantize(${GgmlTypeId.Q6_K}, new Float32Array(1 << 16).map((_, i) => Math.sin(i)), 16, 4096);
    console.log('bytes', out.length);`;
  const dir = mkdtempSync(join(tmpdir(), 'forge-fast-'));
  const file = join(dir, 'no-close.mts');
  writeFileSync(file, script);
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8', timeout: 60_000, cwd: process.cwd() });
  rmSync(dir, { recursive: true, force: true });
  assert.equal(r.status, 0, `exit ${r.status} signal ${r.signal}: ${r.stderr}`);
  assert.match(r.stdout, /bytes 53760/);
});

test('quantizeChecked: same bytes as quantize, and the first NaN/±Inf input found by the workers', async () => {
  const n = 1 << 18;
  const firstBad = (a: Float32Array) => a.findIndex((v) => !Number.isFinite(v));
  const clean = inputs.subarray(0, n).map((v) => (Number.isFinite(v) ? v : 0));
  for (const reference of [false, true]) {
    const q = await quantizer({ threads: 3, reference });
    for (const name of ['Q4_K', 'Q8_0', 'F16', 'F32'] as const) {
      const id = GgmlTypeId[name];
      const none = await q.quantizeChecked(id, clean, n / 1024, 1024);
      assert.equal(none.firstNonFinite, -1, `${name}: clean input`);
      assert.deepEqual(none.bytes, await q.quantize(id, clean, n / 1024, 1024));
      for (const at of [0, 77, n / 2 + 5, n - 1]) {
        const dirty = clean.slice();
        dirty[at] = [NaN, Infinity, -Infinity][at % 3]!;
        if (at > 100) dirty[n - 1] = NaN; // a later one must not hide the first
        const r = await q.quantizeChecked(id, dirty, n / 1024, 1024);
        assert.equal(r.firstNonFinite, firstBad(dirty), `${name} reference=${reference}: non-finite at ${at}`);
      }
    }
    const mixed = inputs.subarray(0, n);
    assert.equal((await q.quantizeChecked(GgmlTypeId.Q6_K, mixed, n / 256, 256)).firstNonFinite, firstBad(mixed));
  }
});

test('dequantize into a caller buffer: shared (written by the workers) or ordinary, same floats', { skip }, async () => {
  const ll = await loadLlamaCpp();
  const q = await quantizer({ threads: 2 });
  const n = 1 << 18;
  for (const name of ['Q5_K', 'Q4_0', 'F16', 'F32'] as const) {
    const id = GgmlTypeId[name];
    const bytes = ll.quantizeChunk(id, inputs.subarray(0, n), n / 1024, 1024);
    // llama.cpp has no to_float for F32 (it is the identity).
    const want = name === 'F32' ? inputs.subarray(0, n) : ll.dequantize(id, bytes, n);
    const shared = sharedFloat32Array(n + 100).fill(7);
    const a = await q.dequantize(id, bytes, n, shared.subarray(100));
    assert.equal(a.buffer, shared.buffer, `${name}: written in place`);
    assert.deepEqual(differingFloats(a, want), [], `${name} into shared`);
    assert.equal(shared[99], 7, `${name}: nothing written before the view`);
    const plain = new Float32Array(n + 5).fill(7);
    const b = await q.dequantize(id, bytes, n, plain);
    assert.deepEqual(differingFloats(b, want), [], `${name} into ordinary`);
    assert.equal(plain[n], 7, `${name}: nothing written past n`);
  }
  await assert.rejects(q.dequantize(GgmlTypeId.Q8_0, new Uint8Array(34), 32, new Float32Array(16)), /output has 16 floats, need 32/);
});
