/**
 * Issue 13 (per-tensor bytes) for IQ3_XXS, IQ3_S, IQ1_S and IQ1_M: our quantizers give the bytes of
 * llama.cpp's `ggml_quantize_chunk(type, src, dst, 0, nrows, n_per_row, imatrix)` (after
 * `ggml_quantize_init(type)`) on ≥ 1M hard values per type, with imatrix vectors that include zeros,
 * huge ratios, all-zero and tiny ones, and with a NULL imatrix where llama.cpp accepts one. Our
 * dequantizers equal its `to_float` bit for bit. 0 differing blocks is the bar.
 *
 * Inputs llama.cpp aborts on (GGML_ASSERT: NaN, or values whose squares overflow) make our
 * quantizers throw; for IQ3_XXS/IQ3_S such a row is checked to abort llama.cpp too, in a child
 * process. (Not for IQ1_M, whose only such rows are NULL-imatrix NaN rows: a child would rebuild
 * the 2048-point IQ1 lattice in ggml_quantize_init, which takes llama.cpp seconds per process.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLlamaCpp, llamaCppUnavailable, type LlamaCpp } from './support/llama-cpp.ts';
import { dequantize, quantizeRows, quantKernel, canQuantize } from '../kernels/quant-table.ts';
import { ggmlType, GgmlTypeId, rowSize } from '../kernels/ggml-types.ts';
import { INPUT_KINDS, makeInputs, Rng } from './kernels-inputs.ts';
import { differingBlocks, differingFloats, hex } from './kernels-oracle.ts';
import { IMATRIX_KINDS, importance } from './imatrix-inputs.ts';

const N = 1 << 20;
/** Which types llama.cpp quantizes with a NULL imatrix (ggml_quantize_requires_imatrix: IQ1_S). */
const TYPES = [['IQ3_XXS', true], ['IQ3_S', true], ['IQ1_S', false], ['IQ1_M', true]] as const;
/** Every input kind whose values and squares stay finite; 'huge' and 'non-finite' are tested apart. */
const FINITE_KINDS = INPUT_KINDS.filter((k) => k !== 'huge' && k !== 'non-finite');

function assertSameBlocks(what: string, ours: Uint8Array, theirs: Uint8Array, typeSize: number): void {
  const bad = differingBlocks(ours, theirs, typeSize);
  const first = bad[0];
  assert.equal(bad.length, 0, `${what}: ${bad.length} of ${ours.length / typeSize} blocks differ` +
    (first === undefined ? '' : `; first block ${first}: ours ${hex(ours.subarray(first * typeSize, (first + 1) * typeSize))}, ` +
      `llama.cpp ${hex(theirs.subarray(first * typeSize, (first + 1) * typeSize))}`));
}

function assertSameFloats(what: string, ours: Float32Array, theirs: Float32Array): void {
  const bad = differingFloats(ours, theirs);
  const i = bad[0];
  assert.equal(bad.length, 0, `${what}: ${bad.length} of ${ours.length} values differ` +
    (i === undefined ? '' : `; first at ${i}: ours ${ours[i]}, llama.cpp ${theirs[i]}`));
}

/** Quantizes with both and compares bytes, then dequantizes llama.cpp's bytes with both. */
function check(ll: LlamaCpp, id: number, what: string, src: Float32Array, nrows: number, nPerRow: number, qw?: Float32Array): void {
  const type = ggmlType(id)!;
  const ours = quantizeRows(id, src, nrows, nPerRow, qw);
  const theirs = ll.quantizeChunk(id, src, nrows, nPerRow, qw);
  assertSameBlocks(what, ours, theirs, type.typeSize);
  assertSameFloats(`${what}, dequantized`, dequantize(id, theirs, nrows * nPerRow), ll.dequantize(id, theirs, nrows * nPerRow));
}

for (const [name, nullImatrix] of TYPES) {
  const id = GgmlTypeId[name];

  test(`${name}: ≥ 1M values with an imatrix${nullImatrix ? ' and more without' : ''} give llama.cpp's bytes and dequantize like to_float`, async (t) => {
    if (llamaCppUnavailable) return t.skip(llamaCppUnavailable);
    const ll = await loadLlamaCpp();
    ll.quantizeInit(id);
    let values = 0;
    // Long rows (the imatrix is indexed by column across super-blocks) and rows of one super-block;
    // every imatrix kind gets an equal share of the values.
    for (const nPerRow of [2048, 256]) {
      const per = Math.ceil(N / 2 / IMATRIX_KINDS.length / nPerRow);
      for (const [k, kind] of IMATRIX_KINDS.entries()) {
        const seed = id * 100 + k + nPerRow;
        check(ll, id, `${name} nPerRow=${nPerRow} imatrix=${kind}`, makeInputs(seed, per * nPerRow, FINITE_KINDS), per, nPerRow, importance(kind, nPerRow, seed));
        values += per * nPerRow;
      }
    }
    assert.ok(values >= 1_000_000, `${values} values compared`);
    if (nullImatrix) check(ll, id, `${name} without an imatrix`, makeInputs(id * 100 + 99, N / 4, FINITE_KINDS), N / 4 / 256, 256);
  });

  test(`${name}: with NaN, ±Inf and ~1e30 inputs we give llama.cpp's bytes where it returns and throw where it aborts`, async (t) => {
    if (llamaCppUnavailable) return t.skip(llamaCppUnavailable);
    const ll = await loadLlamaCpp();
    ll.quantizeInit(id);
    const type = ggmlType(id)!;
    const nrows = 256, nPerRow = 256;
    const src = makeInputs(id * 100 + 77, nrows * nPerRow, ['non-finite', 'huge']);
    const k = quantKernel(id)!;
    let aborted: { row: Float32Array; qw?: Float32Array; message: string } | undefined;
    for (const qw of [importance('sparse-zeros', nPerRow, id), ...(nullImatrix ? [undefined] : [])]) {
      const kept: number[] = [];
      for (let r = 0; r < nrows; r++) {
        const row = src.subarray(r * nPerRow, (r + 1) * nPerRow);
        try {
          const dst = new Uint8Array(rowSize(type, nPerRow));
          if (qw) k.quantizeImatrix!(row, dst, 1, nPerRow, qw);
          else k.quantize!(row, dst, 1, nPerRow);
          kept.push(r);
        } catch (e) {
          aborted ??= { row: row.slice(), qw, message: (e as Error).message };
        }
      }
      const rows = new Float32Array(kept.length * nPerRow);
      kept.forEach((r, i) => rows.set(src.subarray(r * nPerRow, (r + 1) * nPerRow), i * nPerRow));
      if (kept.length) check(ll, id, `${name} non-finite/huge imatrix=${qw ? 'sparse-zeros' : 'NULL'} (${kept.length} rows llama.cpp returns on)`, rows, kept.length, nPerRow, qw);
    }
    if (!aborted || !name.startsWith('IQ3')) return;
    // One row we refuse: llama.cpp must abort on it, on the same assert.
    const dir = mkdtempSync(join(tmpdir(), 'iq-abort-'));
    try {
      writeFileSync(join(dir, 'src.f32'), aborted.row);
      const args = ['--import', 'tsx', join(import.meta.dirname, 'support/ggml-quantize-child.ts'), String(id), String(nPerRow), join(dir, 'src.f32')];
      if (aborted.qw) { writeFileSync(join(dir, 'qw.f32'), aborted.qw); args.push(join(dir, 'qw.f32')); }
      const child = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 60_000, env: { ...process.env, GGML_NO_BACKTRACE: '1' } });
      assert.equal(child.stdout.includes('survived'), false, `llama.cpp returned on a row we refuse (${aborted.message})`);
      assert.equal(child.signal, 'SIGABRT', `child ended with ${child.status}/${child.signal}: ${child.stderr}`);
      const assertText = /GGML_ASSERT\(.*?\) failed/.exec(aborted.message)?.[0];
      if (assertText) assert.ok(child.stderr.includes(assertText), `llama.cpp: ${child.stderr.trim().split('\n').at(-1)}; ours: ${aborted.message}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${name}: dequantizing random block bytes matches to_float bit for bit`, async (t) => {
    if (llamaCppUnavailable) return t.skip(llamaCppUnavailable);
    const ll = await loadLlamaCpp();
    const type = ggmlType(id)!;
    const nBlocks = (1 << 18) / 256;
    const bytes = new Uint8Array(nBlocks * type.typeSize);
    const rng = new Rng(5000 + id);
    for (let i = 0; i < bytes.length; i++) bytes[i] = rng.u32() & 255;
    assertSameFloats(name, dequantize(id, bytes, nBlocks * 256), ll.dequantize(id, bytes, nBlocks * 256));
  });
}

/**
 * Hand-made rows for the branches random data rarely takes: an all-zero 32-value sub-block at each
 * position (IQ3_S then writes the later sub-blocks' codes one slot early, as upstream does), values
 * right at the "all zero" thresholds (1e-8 IQ3_XXS, 1e-12 IQ1_S, 1e-7 IQ1_M), equal magnitudes with
 * mixed signs (sort ties), and rows scaled by 1e8…1e19 where sums of squares overflow.
 */
function edgeRows(seed: number): Float32Array[] {
  const rng = new Rng(seed);
  const gauss = () => Float32Array.from({ length: 256 }, () => rng.gauss());
  const rows: Float32Array[] = [];
  for (let j = 0; j < 8; j++) { const r = gauss(); r.fill(0, 32 * j, 32 * j + 32); rows.push(r); }
  { const r = gauss(); for (const j of [0, 3, 7]) r.fill(0, 32 * j, 32 * j + 32); rows.push(r); }
  for (const eps of [1e-8, 1e-12, 1e-7]) {
    for (const f of [0.999, 1, 1.001]) {
      const r = gauss();
      for (let i = 0; i < 128; i++) r[i] = (rng.next() < 0.5 ? -1 : 1) * eps * f * (i % 16 === 0 ? 1 : rng.next());
      rows.push(r);
    }
  }
  for (let k = 0; k < 4; k++) rows.push(Float32Array.from({ length: 256 }, (_, i) => (((i * 7 + k) % 3) - 1) * 0.5));
  for (let e = 8; e <= 19; e++) { const r = gauss(); for (let i = 0; i < 256; i++) r[i] = r[i]! * 10 ** e; rows.push(r); }
  return rows;
}

for (const [name, nullImatrix] of TYPES) {
  const id = GgmlTypeId[name];
  test(`${name}: hand-made edge rows (zero sub-blocks, thresholds, ties, overflow) give llama.cpp's bytes`, async (t) => {
    if (llamaCppUnavailable) return t.skip(llamaCppUnavailable);
    const ll = await loadLlamaCpp();
    ll.quantizeInit(id);
    const type = ggmlType(id)!;
    const k = quantKernel(id)!;
    for (const qw of [importance('uniform', 256, id), importance('huge-ratios', 256, id + 1), ...(nullImatrix ? [undefined] : [])]) {
      const kept = edgeRows(id).filter((row) => {
        try {
          const dst = new Uint8Array(type.typeSize);
          if (qw) k.quantizeImatrix!(row, dst, 1, 256, qw);
          else k.quantize!(row, dst, 1, 256);
          return true;
        } catch {
          return false; // llama.cpp aborts here (see the non-finite test); nothing to compare
        }
      });
      assert.ok(kept.length >= 21, `${kept.length} rows kept`);
      const src = new Float32Array(kept.length * 256);
      kept.forEach((r, i) => src.set(r, 256 * i));
      check(ll, id, `${name} edge rows imatrix=${qw ? 'yes' : 'NULL'}`, src, kept.length, 256, qw);
    }
  });
}

test('registration: IQ1_S needs an imatrix (ggml_quantize_requires_imatrix), IQ3_XXS/IQ3_S/IQ1_M also quantize without', () => {
  for (const [name, nullImatrix] of TYPES) {
    const k = quantKernel(GgmlTypeId[name])!;
    assert.ok(k.quantizeImatrix && k.dequantize && canQuantize(k.type.id), name);
    assert.equal(k.quantize !== undefined, nullImatrix, name);
    assert.equal(k.requiresImatrix === true, !nullImatrix, name);
  }
  const src = makeInputs(9, 4096, FINITE_KINDS);
  assert.throws(() => quantizeRows(GgmlTypeId.IQ1_S, src, 16, 256), /IQ1_S requires an importance matrix/);
  assert.throws(() => quantKernel(GgmlTypeId.IQ3_S)!.quantizeImatrix!(src, new Uint8Array(16 * 110), 16, 256, new Float32Array(128)), /importance matrix has 128 values, need 256/);
  // The imatrix is used: it changes the bytes.
  assert.notDeepEqual(quantizeRows(GgmlTypeId.IQ3_XXS, src, 16, 256, importance('huge-ratios', 256, 3)), quantizeRows(GgmlTypeId.IQ3_XXS, src, 16, 256));
});
