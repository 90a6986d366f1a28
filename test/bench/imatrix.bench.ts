/**
 * `npm run bench imatrix`, 2 threads (BENCH_THREADS): tokens/s of `imatrix` (the forward plus
 * the Σx² collection of every matmul input) against `eval`'s tokens/s (the forward plus the
 * output head and the perplexity) on the synthetic 1024-wide 8-layer llama (F32), the same chunks
 * and threads, in the same run, alternated (eval, imatrix, eval, imatrix…) so load changes hit
 * both. The machine is shared, so absolute figures are noisy: read the ratio. Target: imatrix
 * costs at most a few percent more than eval. BENCH_IMATRIX_CHUNKS (default 2) chunks of 512.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const CTX = 512;
const CHUNKS = Number(process.env.BENCH_IMATRIX_CHUNKS ?? 2);
const ROUNDS = Number(process.env.BENCH_IMATRIX_ROUNDS ?? 2);

function chunkTokens(vocab: number, n: number): Int32Array {
  let s = 12345;
  return Int32Array.from({ length: n }, () => { s = (s * 1103515245 + 12345) >>> 0; return 3 + (s % (vocab - 3)); });
}

export default async function bench(): Promise<void> {
  const { writeLlamaGguf } = await import('../quantize-fixtures.ts');
  const { evalModel } = await import('../../src/pipeline/eval.ts');
  const { computeImatrix } = await import('../../src/pipeline/imatrix-compute.ts');
  const { createFastEngine } = await import('../../kernels/fast/forward-engine.ts');
  const dir = mkdtempSync(join(tmpdir(), 'gguf-forge-imatrix-bench-'));
  const engine = await createFastEngine({ threads: THREADS });
  try {
    const f32 = join(dir, 'model-f32.gguf');
    await writeLlamaGguf(f32, { nLayer: 8, nEmbd: 1024, nFf: 2816, nHead: 16, nHeadKv: 16, tied: false });
    // One extra chunk of text: llama-perplexity/imatrix need at least two chunks' worth.
    const tokens = chunkTokens(512, (CHUNKS + 1) * CTX);
    const runEval = async () => {
      const gen = evalModel({ model: f32, textTokens: tokens, ctx: CTX, chunks: CHUNKS, engine });
      for (let s = await gen.next(); ; s = await gen.next()) if (s.done) return s.value.tokensPerSecond;
    };
    const runImatrix = async (processOutput: boolean) => {
      const gen = computeImatrix({ model: f32, textTokens: tokens, ctx: CTX, chunks: CHUNKS, engine, processOutput });
      for (let s = await gen.next(); ; s = await gen.next()) if (s.done) return s.value.tokensPerSecond;
    };
    const rows: { evalTps: number; imTps: number; imOutTps: number }[] = [];
    for (let r = 0; r < ROUNDS; r++) rows.push({ evalTps: await runEval(), imTps: await runImatrix(false), imOutTps: await runImatrix(true) });
    const best = (k: keyof (typeof rows)[number]) => Math.max(...rows.map((r) => r[k]));
    console.log(`1024-wide 8-layer llama (F32), ${CHUNKS} chunks of ${CTX} tokens, ${THREADS} thread(s), ${ROUNDS} alternated rounds (best of each)`);
    console.log(`${'run'.padEnd(26)} ${'tokens/s'.padStart(9)} ${'vs eval'.padStart(8)}`);
    console.log(`${'eval (PPL)'.padEnd(26)} ${best('evalTps').toFixed(1).padStart(9)} ${'1.00×'.padStart(8)}`);
    console.log(`${'imatrix'.padEnd(26)} ${best('imTps').toFixed(1).padStart(9)} ${`${(best('imTps') / best('evalTps')).toFixed(2)}×`.padStart(8)}`);
    console.log(`${'imatrix --process-output'.padEnd(26)} ${best('imOutTps').toFixed(1).padStart(9)} ${`${(best('imOutTps') / best('evalTps')).toFixed(2)}×`.padStart(8)}`);
    console.log('per round (eval / imatrix / imatrix --process-output): ' + rows.map((r) => `${r.evalTps.toFixed(0)}/${r.imTps.toFixed(0)}/${r.imOutTps.toFixed(0)}`).join(', '));
    console.log('target: imatrix ≥ ~0.95× eval (shared machine: absolute tokens/s are noisy, the ratio is the figure)');
  } finally {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
