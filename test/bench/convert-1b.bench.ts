/**
 * Bounded memory on a real-size model: converts a generated 1.1B-parameter bf16 Llama (TinyLlama's
 * shape, 2.2 GB in 3 shards) to q4_0, q5_K_M, f32 and bf16, each in its own child process, and
 * reports the time and the child's peak RSS (target < 1 GiB whatever the model size), and bf16
 * output time against f32 output time on the same model (target ≤ 1.2×).
 *
 *   npm run bench convert-1b          (env BENCH_THREADS=2; BENCH_SHAPE=small for the 4-layer
 *                                      shape; BENCH_TYPES=f32,bf16 for a subset)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const STORIES = fileURLToPath(new URL('../../samples/stories260K', import.meta.url));

async function child([source, output, fileType, threads]: string[]): Promise<void> {
  const { convertModel } = await import('../../src/pipeline/convert.ts');
  const t0 = performance.now();
  const gen = convertModel({ source: source!, output: output!, fileType: fileType!, threads: Number(threads), force: true });
  let result;
  for (let s = await gen.next(); ; s = await gen.next()) if (s.done) { result = s.value; break; }
  const seconds = (performance.now() - t0) / 1000;
  const anomalies = (result.report as { anomalies: unknown[] } | undefined)?.anomalies.length ?? 0;
  process.stdout.write(`\nRESULT ${JSON.stringify({ seconds, maxRssBytes: process.resourceUsage().maxRSS * 1024, outputBytes: result.outputBytes, anomalies })}\n`);
}

export default async function bench(): Promise<void> {
  const { writeBigLlama, TINYLLAMA_SHAPE, SMALL_SHAPE } = await import('./big-model.ts');
  const shape = process.env.BENCH_SHAPE === 'small' ? SMALL_SHAPE : TINYLLAMA_SHAPE;
  const types = (process.env.BENCH_TYPES ?? 'q4_0,q5_K_M,f32,bf16').split(',');
  const threads = Number(process.env.BENCH_THREADS ?? availableParallelism());
  const dir = mkdtempSync(join(tmpdir(), 'gguf-forge-1b-'));
  try {
    const model = join(dir, 'tinyllama-shape-bf16');
    mkdirSync(model);
    const t0 = performance.now();
    const { params, bytes } = await writeBigLlama(model, shape, STORIES);
    console.log(`generated ${(params / 1e9).toFixed(2)}B parameters, ${(bytes / 1e9).toFixed(2)} GB bf16 in ${((performance.now() - t0) / 1000).toFixed(0)} s; converting with ${threads} thread(s), validation on`);
    console.log(`${'type'.padEnd(8)} ${'seconds'.padStart(8)} ${'M params/s'.padStart(11)} ${'output'.padStart(10)} ${'peak RSS'.padStart(10)}  anomalies`);
    const seconds: Record<string, number> = {};
    for (const ft of types) {
      const out = join(dir, `out-${ft}.gguf`);
      const r = spawnSync(process.execPath, ['--import', 'tsx', SELF, '--child', model, out, ft, String(threads)], { encoding: 'utf8', maxBuffer: 64 << 20 });
      const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (r.status !== 0 || !line) throw new Error(`convert ${ft} failed (${r.status}): ${r.stderr.slice(-2000)}`);
      const res = JSON.parse(line.slice(7));
      seconds[ft] = res.seconds;
      console.log(`${ft.padEnd(8)} ${res.seconds.toFixed(1).padStart(8)} ${(params / 1e6 / res.seconds).toFixed(1).padStart(11)} ${`${(statSync(out).size / 2 ** 20).toFixed(0)} MiB`.padStart(10)} ${`${(res.maxRssBytes / 2 ** 20).toFixed(0)} MiB`.padStart(10)}  ${res.anomalies}`);
      rmSync(out, { force: true });
    }
    console.log('peak RSS target: < 1024 MiB');
    if (seconds.f32 && seconds.bf16) console.log(`bf16 output / f32 output time: ${(seconds.bf16 / seconds.f32).toFixed(2)}× (target ≤ 1.2×)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url && process.argv[2] === '--child') {
  await child(process.argv.slice(3));
}
