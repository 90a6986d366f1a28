/**
 * Issue 13 (apply): a tensor source carrying an importance matrix is quantized with it by the
 * whole write stage — chunks of whole rows through the worker pool (wasm imatrix kernels where the
 * module has them, the JS reference `quantizeImatrix` in the workers otherwise) — and the file's
 * bytes equal `quantizeRows(type, src, nrows, nPerRow, imatrix)`, at 1 and 2 threads and with the
 * reference-only pool. Types whose quantizer takes no imatrix ignore it; round-trip metrics still
 * cover every element.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createQuantizer, type Quantizer } from '../kernels/fast/index.ts';
import { quantizeRows } from '../kernels/quant-table.ts';
import { GgmlTypeId as T, ggmlType } from '../kernels/ggml-types.ts';
import { writeGguf, type TensorSource } from '../src/pipeline/write-gguf.ts';
import { readGguf, readTensorBytes } from '../formats/gguf/reader.ts';
import { openFileSource } from '../formats/io/byte-source.ts';
import type { TensorPlan } from '../src/policy/type-policy.ts';
import { makeInputs, Rng } from './kernels-inputs.ts';

const dir = mkdtempSync(join(tmpdir(), 'gguf-forge-wimx-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Weight-like finite rows (the writer refuses NaN/Inf): Gaussian with outliers. */
function weights(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = rng.gauss() * 0.02 * (rng.next() < 0.01 ? 30 : 1);
  return x;
}

/** What llama-imatrix writes (mean x² per column), with zeros and columns 1e6 apart. */
function importance(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.next() < 0.1 ? 0 : rng.gauss() ** 2 * 10 ** (rng.next() * 6 - 3);
  return v;
}

interface Case { name: string; type: number; nPerRow: number; rows: number; imatrix: boolean }
// 768 = 3 super-blocks: pool jobs (a multiple of 64 blocks otherwise) must round to whole rows.
// Q4_0 takes σ² over the whole row, so a job cut inside a row would change its bytes. Q8_0 has
// no imatrix quantizer (ignored); IQ4_XS has no wasm kernel (the workers run the reference).
const CASES: Case[] = [
  { name: 'blk.0.ffn_up.weight', type: T.Q4_K, nPerRow: 768, rows: 96, imatrix: true },
  { name: 'blk.0.ffn_down.weight', type: T.Q5_K, nPerRow: 512, rows: 64, imatrix: true },
  { name: 'blk.0.attn_q.weight', type: T.Q4_0, nPerRow: 4096, rows: 12, imatrix: true },
  { name: 'blk.0.attn_v.weight', type: T.Q6_K, nPerRow: 256, rows: 40, imatrix: true },
  { name: 'blk.0.attn_k.weight', type: T.IQ4_XS, nPerRow: 512, rows: 24, imatrix: true },
  { name: 'blk.0.attn_output.weight', type: T.Q8_0, nPerRow: 256, rows: 16, imatrix: true },
  { name: 'blk.0.ffn_gate.weight', type: T.Q4_K, nPerRow: 256, rows: 16, imatrix: false },
];

const plans = CASES.map((c): TensorPlan => ({ name: c.name, ne: [c.nPerRow, c.rows], sourceType: T.F32, targetType: c.type, quantize: true, rule: 'test' }));
const data = CASES.map((c, i) => weights(c.nPerRow * c.rows, 11 + i));
const imatrices = CASES.map((c, i) => (c.imatrix ? importance(c.nPerRow, 101 + i) : undefined));
const want = CASES.map((c, i) => quantizeRows(c.type, data[i]!, c.rows, c.nPerRow, imatrices[i]));

function source(i: number): TensorSource {
  const nPerRow = CASES[i]!.nPerRow;
  return {
    plan: plans[i]!,
    imatrix: imatrices[i],
    async readRowsF32(r, n, into) {
      const rows = data[i]!.subarray(r * nPerRow, (r + n) * nPerRow);
      if (!into) return rows.slice();
      into.set(rows);
      return into.subarray(0, rows.length);
    },
  };
}

async function writeAndCompare(label: string, quantizer: Quantizer): Promise<void> {
  const out = join(dir, `${label}.gguf`);
  // ~20 KiB chunks: several row chunks per tensor, each split further into pool jobs.
  const gen = writeGguf({ outPath: out, kvs: [], tensors: CASES.map((_, i) => source(i)), quantizer, chunkBytes: 20 << 10 });
  let s = await gen.next();
  while (!s.done) s = await gen.next();
  const { metrics } = s.value;
  const file = await readGguf(out);
  const src = await openFileSource(out);
  try {
    for (const [i, c] of CASES.entries()) {
      const t = file.tensors.find((x) => x.name === c.name)!;
      const got = await readTensorBytes(src, file, t);
      assert.ok(Buffer.from(got).equals(Buffer.from(want[i]!)), `${label} ${c.name} (${ggmlType(c.type)!.name}): bytes differ from quantizeRows with the imatrix`);
      assert.equal(metrics[c.name]!.count, c.nPerRow * c.rows, `${label} ${c.name}: metrics cover every element`);
      assert.ok(metrics[c.name]!.rmse > 0 && metrics[c.name]!.rmse < 0.02, `${label} ${c.name}: rmse ${metrics[c.name]!.rmse}`);
    }
  } finally {
    await src.close();
  }
}

test('the imatrix changes these tensors (it is applied, not ignored) except where the type takes none', () => {
  for (const [i, c] of CASES.entries()) {
    if (!c.imatrix) continue;
    const plain = quantizeRows(c.type, data[i]!, c.rows, c.nPerRow);
    assert.equal(Buffer.from(plain).equals(Buffer.from(want[i]!)), c.type === T.Q8_0, c.name);
  }
});

for (const [label, opts] of [['1 thread', { threads: 1 }], ['2 threads', { threads: 2 }], ['reference pool', { threads: 2, reference: true }]] as const) {
  test(`writeGguf with per-tensor imatrices, ${label}: every tensor's bytes equal quantizeRows(type, src, nrows, nPerRow, imatrix)`, async () => {
    const q = await createQuantizer(opts);
    try {
      await writeAndCompare(label.replace(' ', '-'), q);
    } finally {
      await q.close();
    }
  });
}

test('the pool with an imatrix: hard inputs in jobs of whole rows, NaN still found, a short imatrix refused', async () => {
  const q = await createQuantizer({ threads: 2 });
  try {
    const nPerRow = 1280, rows = 202; // 1010 super-blocks: jobs of ⌈1010/8⌉ = 127 blocks would cut rows
    const src = makeInputs(77, nPerRow * rows);
    const qw = importance(nPerRow, 78);
    for (const type of [T.Q4_K, T.Q5_K, T.Q2_K, T.Q3_K, T.Q6_K, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.IQ4_NL]) {
      const r = await q.quantizeChecked(type, src, rows, nPerRow, undefined, { imatrix: qw });
      assert.ok(Buffer.from(r.bytes).equals(Buffer.from(quantizeRows(type, src, rows, nPerRow, qw))), `${ggmlType(type)!.name}`);
      assert.equal(r.firstNonFinite, src.findIndex((v) => !Number.isFinite(v)));
    }
    await assert.rejects(q.quantizeChecked(T.Q4_K, src, rows, nPerRow, undefined, { imatrix: qw.subarray(0, 256) }), /importance matrix has 256 values, need 1280/);
  } finally {
    await q.close();
  }
});
