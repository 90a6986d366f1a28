/**
 * Whole-file GGUF → GGUF quantization speed against llama.cpp's `llama_model_quantize`, same
 * input, same thread count, measured in the same run. Each job runs in its own child process so
 * its peak RSS (`process.resourceUsage().maxRSS`) is its own. Each child repeats its job
 * BENCH_RUNS times (default 3) and the median is reported, the same for both sides, because one
 * sub-second run on a shared 2-core VM varies by ±20%. Targets: q5_K_M ≥ 2× llama.cpp, q8_0 and
 * q4_0 ≥ 1×, our peak RSS < 1 GiB.
 *
 *   npm run bench quantize            (env BENCH_LAYERS=8 BENCH_THREADS=2 BENCH_RUNS=3)
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const FILE_TYPES = ['q5_K_M', 'q8_0', 'q4_0'];

interface ChildResult {
  /** The quantization itself: the median of the runs. */
  seconds: number;
  /** Every run's seconds, in order. */
  runs: number[];
  /** One-time start-up before it: our module loading and worker pool start (llama.cpp: dlopen + backend init). */
  startupSeconds: number;
  maxRssBytes: number;
  outputBytes: number;
}

/** Child mode: one job, result as JSON on the last stdout line. */
async function child(args: string[]): Promise<void> {
  const [who, input, output, ftName, threadsText, runsText] = args;
  const threads = Number(threadsText);
  const runs: number[] = [];
  const timed = async (job: () => Promise<void> | void) => {
    for (let i = 0; i < Number(runsText); i++) {
      const t = performance.now();
      await job();
      runs.push((performance.now() - t) / 1000);
    }
  };
  const t0 = performance.now();
  let t1: number;
  if (who === 'ours') {
    const { quantizeGguf } = await import('../../src/pipeline/quantize.ts');
    const { createQuantizer } = await import('../../kernels/fast/index.ts');
    const quantizer = await createQuantizer({ threads });
    t1 = performance.now();
    await timed(async () => {
      const gen = quantizeGguf({ input: input!, output: output!, fileType: ftName!, threads, force: true, validate: false, quantizer });
      for (let s = await gen.next(); !s.done; s = await gen.next()) { /* drain */ }
    });
    await quantizer.close();
  } else {
    const { loadLlamaCpp } = await import('../support/llama-cpp.ts');
    const { fileTypeByName } = await import('../../kernels/file-types.ts');
    const ll = await loadLlamaCpp();
    t1 = performance.now();
    await timed(() => {
      if (ll.modelQuantize(input!, output!, fileTypeByName(ftName!)!.id, { nthread: threads }) !== 0) throw new Error('llama_model_quantize failed');
    });
  }
  const seconds = [...runs].sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
  report({ seconds, runs, startupSeconds: (t1 - t0) / 1000, maxRssBytes: process.resourceUsage().maxRSS * 1024, outputBytes: statSync(output!).size });
}

function report(r: ChildResult): void {
  process.stdout.write(`\nRESULT ${JSON.stringify(r)}\n`);
}

function runChild(args: string[]): ChildResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', SELF, '--child', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (r.status !== 0 || !line) throw new Error(`bench child ${args.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(line.slice(7));
}

/** Byte equality of two files, read in 16 MiB pieces. */
function sameBytes(a: string, b: string): boolean {
  if (statSync(a).size !== statSync(b).size) return false;
  const fa = openSync(a, 'r');
  const fb = openSync(b, 'r');
  try {
    const ba = Buffer.alloc(16 << 20);
    const bb = Buffer.alloc(16 << 20);
    for (;;) {
      const na = readSync(fa, ba, 0, ba.length, null);
      const nb = readSync(fb, bb, 0, bb.length, null);
      if (na !== nb || !ba.subarray(0, na).equals(bb.subarray(0, nb))) return false;
      if (na === 0) return true;
    }
  } finally {
    closeSync(fa);
    closeSync(fb);
  }
}

export default async function bench(): Promise<void> {
  const { llamaCppUnavailable } = await import('../support/llama-cpp.ts');
  if (llamaCppUnavailable) {
    console.log(`quantize bench skipped: ${llamaCppUnavailable}`);
    return;
  }
  const { writeLlamaGguf } = await import('../quantize-fixtures.ts');
  const threads = Number(process.env.BENCH_THREADS ?? availableParallelism());
  const nLayer = Number(process.env.BENCH_LAYERS ?? 8);
  const runs = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
  const dir = mkdtempSync(join(tmpdir(), 'gguf-forge-qbench-'));
  try {
    const input = join(dir, 'model-f32.gguf');
    const dims = { nLayer, nEmbd: 1024, nFf: 2816, nHead: 16, nHeadKv: 16, tied: false };
    const params = dims.nLayer * (4 * dims.nEmbd * dims.nEmbd + 3 * dims.nEmbd * dims.nFf) + 2 * 512 * dims.nEmbd;
    console.log(`generating a ${(params / 1e6).toFixed(1)}M-parameter F32 llama GGUF (n_embd ${dims.nEmbd}, n_ff ${dims.nFf}, ${nLayer} layers)…`);
    await writeLlamaGguf(input, dims);
    const inBytes = statSync(input).size;
    const mb = inBytes / 1e6;
    console.log(`input ${mb.toFixed(0)} MB, ${threads} thread(s); MB/s = input MB / median seconds of ${runs} quantization run(s) per side (start-up listed apart;`);
    console.log(`"e2e" ratio includes both sides' start-up: our module load + worker pool, llama.cpp's dlopen + backend init)\n`);
    console.log(`${'type'.padEnd(8)} ${'ours MB/s'.padStart(10)} ${'llama MB/s'.padStart(11)} ${'ratio'.padStart(7)} ${'target'.padStart(7)} ${'e2e ratio'.padStart(10)} ${'start-up ours/llama'.padStart(20)} ${'ours RSS'.padStart(9)} ${'llama RSS'.padStart(10)} identical`);
    const perRun: string[] = [];
    for (const ft of FILE_TYPES) {
      const oursOut = join(dir, `ours-${ft}.gguf`);
      const theirsOut = join(dir, `theirs-${ft}.gguf`);
      const theirs = runChild(['llama', input, theirsOut, ft, String(threads), String(runs)]);
      const ours = runChild(['ours', input, oursOut, ft, String(threads), String(runs)]);
      perRun.push(`${ft}: ours ${ours.runs.map((x) => x.toFixed(3)).join(' ')} s; llama.cpp ${theirs.runs.map((x) => x.toFixed(3)).join(' ')} s`);
      const ratio = theirs.seconds / ours.seconds;
      const target = ft === 'q5_K_M' ? 2 : 1;
      const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;
      const e2e = (theirs.seconds + theirs.startupSeconds) / (ours.seconds + ours.startupSeconds);
      const startup = `${ours.startupSeconds.toFixed(2)} s / ${theirs.startupSeconds.toFixed(2)} s`;
      console.log(`${ft.padEnd(8)} ${(mb / ours.seconds).toFixed(1).padStart(10)} ${(mb / theirs.seconds).toFixed(1).padStart(11)} ${ratio.toFixed(2).padStart(6)}× ${`≥${target}×`.padStart(7)} ${e2e.toFixed(2).padStart(9)}× ${startup.padStart(20)} ${mib(ours.maxRssBytes).padStart(9)} ${mib(theirs.maxRssBytes).padStart(10)} ${sameBytes(oursOut, theirsOut)}`);
      rmSync(oursOut, { force: true });
      rmSync(theirsOut, { force: true });
    }
    console.log(`\nevery run:\n  ${perRun.join('\n  ')}`);
    console.log('RSS target for ours: < 1024 MiB');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url && process.argv[2] === '--child') {
  await child(process.argv.slice(3));
}
