/**
 * `npm run bench eval`, 2 threads (BENCH_THREADS):
 * 1. Tokens/s of `eval` (our forward, fast kernels, layer-streamed) against llama.cpp's prompt
 *    processing (node-llama-cpp evaluating the same chunks, 2 threads) on the synthetic 1024-wide
 *    8-layer llama (test/quantize-fixtures.ts) as F32, q8_0 and q4_K_M GGUFs (the quantized files
 *    by llama.cpp's own quantizer). Ratio in the same run; target ≥ 0.5× on F32.
 * 2. Peak RSS of `eval MODEL --ref REF` in a child process on the generated 1.1B-parameter bf16
 *    llama (TinyLlama's shape) against its q4_K_M GGUF: target < 1 GiB. Long (it generates 2.2 GB
 *    and converts it); BENCH_EVAL_1B=0 skips it, BENCH_EVAL_THROUGHPUT=0 skips part 1.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const STORIES = fileURLToPath(new URL('../../samples/stories260K', import.meta.url));
const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const CTX = 512;
const CHUNKS = Number(process.env.BENCH_EVAL_CHUNKS ?? 2);

/** Deterministic token ids in [3, vocab): the same chunks for both sides. */
function chunkTokens(vocab: number, n: number): Int32Array {
  let s = 12345;
  return Int32Array.from({ length: n }, () => { s = (s * 1103515245 + 12345) >>> 0; return 3 + (s % (vocab - 3)); });
}

async function ours(path: string, tokens: Int32Array): Promise<{ tps: number; ppl: number }> {
  const { evalModel } = await import('../../src/pipeline/eval.ts');
  const gen = evalModel({ model: path, textTokens: tokens, ctx: CTX, chunks: CHUNKS, threads: THREADS });
  for (let s = await gen.next(); ; s = await gen.next()) if (s.done) return { tps: s.value.tokensPerSecond, ppl: s.value.model.perplexity.ppl };
}

async function llamaCpp(path: string, tokens: Int32Array): Promise<number> {
  const { loadModel } = await import('../support/llama-run.ts');
  const model = await loadModel(path);
  const context = await model.createContext({ contextSize: CTX, sequences: 1, batchSize: CTX, threads: THREADS });
  try {
    const seq = context.getSequence();
    const t0 = performance.now();
    for (let c = 0; c < CHUNKS; c++) {
      await seq.clearHistory();
      const chunk = Array.from(tokens.subarray(c * CTX, (c + 1) * CTX));
      chunk[0] = 1;
      await seq.evaluateWithoutGeneratingNewTokens(chunk as never);
    }
    return (CHUNKS * CTX) / ((performance.now() - t0) / 1000);
  } finally {
    await context.dispose();
    await model.dispose();
  }
}

async function throughput(dir: string): Promise<void> {
  const { writeLlamaGguf } = await import('../quantize-fixtures.ts');
  const { loadLlamaCpp } = await import('../support/llama-cpp.ts');
  const f32 = join(dir, 'model-f32.gguf');
  const dims = { nLayer: 8, nEmbd: 1024, nFf: 2816, nHead: 16, nHeadKv: 16, tied: false };
  await writeLlamaGguf(f32, dims);
  const ll = await loadLlamaCpp();
  const files: [string, string][] = [['F32', f32]];
  for (const [name, ftype] of [['q8_0', 7], ['q4_K_M', 15]] as const) {
    const out = join(dir, `model-${name}.gguf`);
    if (ll.modelQuantize(f32, out, ftype, { nthread: THREADS }) !== 0) throw new Error(`llama_model_quantize ${name} failed`);
    files.push([name, out]);
  }
  const tokens = chunkTokens(512, CHUNKS * CTX);
  console.log(`1024-wide 8-layer llama, ${CHUNKS} chunks of ${CTX} tokens, ${THREADS} thread(s)`);
  console.log(`${'type'.padEnd(8)} ${'ours tok/s'.padStart(11)} ${'llama.cpp'.padStart(10)} ${'ratio'.padStart(7)}`);
  for (const [name, path] of files) {
    const a = await ours(path, tokens);
    const b = await llamaCpp(path, tokens);
    console.log(`${name.padEnd(8)} ${a.tps.toFixed(1).padStart(11)} ${b.toFixed(1).padStart(10)} ${(a.tps / b).toFixed(2).padStart(7)}×`);
  }
  console.log('target: ≥ 0.5× on F32 (llama.cpp side: prompt processing of the same chunks, logits of the last position only)');
}

/** Child: eval --ref, reporting peak RSS. */
async function child([model, ref, chunks]: string[]): Promise<void> {
  const { evalModel } = await import('../../src/pipeline/eval.ts');
  const t0 = performance.now();
  const gen = evalModel({ model: model!, ref: ref!, textTokens: chunkTokens(512, 4 * 128), ctx: 128, chunks: Number(chunks), threads: THREADS });
  let r;
  for (let s = await gen.next(); ; s = await gen.next()) if (s.done) { r = s.value; break; }
  process.stdout.write(`\nRESULT ${JSON.stringify({ seconds: (performance.now() - t0) / 1000, maxRssBytes: process.resourceUsage().maxRSS * 1024, kl: r.kl!.kl.mean, seqPerPass: r.seqPerPass })}\n`);
}

async function peakRss1b(dir: string): Promise<void> {
  const { writeBigLlama, TINYLLAMA_SHAPE } = await import('./big-model.ts');
  const { convertModel } = await import('../../src/pipeline/convert.ts');
  const hf = join(dir, 'tinyllama-shape-bf16');
  mkdirSync(hf);
  const { params } = await writeBigLlama(hf, TINYLLAMA_SHAPE, STORIES);
  const q = join(dir, 'tinyllama-q4_K_M.gguf');
  const gen = convertModel({ source: hf, output: q, fileType: 'q4_K_M', threads: THREADS, validate: false });
  for (let s = await gen.next(); !s.done; s = await gen.next());
  const r = spawnSync(process.execPath, ['--import', 'tsx', SELF, '--child', q, hf, '2'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (r.status !== 0 || !line) throw new Error(`eval child failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const res = JSON.parse(line.slice(7));
  console.log(`eval q4_K_M --ref bf16 folder, ${(params / 1e9).toFixed(2)}B parameters, 2 chunks of 128: ${res.seconds.toFixed(0)} s, ${res.seqPerPass} chunk(s)/pass, KL ${res.kl.toFixed(4)}, peak RSS ${(res.maxRssBytes / 2 ** 20).toFixed(0)} MiB (target < 1024 MiB)`);
}

export default async function bench(): Promise<void> {
  const { llamaCppUnavailable } = await import('../support/llama-cpp.ts');
  if (llamaCppUnavailable) {
    console.log(`eval bench skipped: ${llamaCppUnavailable}`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'gguf-forge-eval-bench-'));
  try {
    if (process.env.BENCH_EVAL_THROUGHPUT !== '0') await throughput(dir);
    if (process.env.BENCH_EVAL_1B !== '0') await peakRss1b(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') await child(process.argv.slice(3));
