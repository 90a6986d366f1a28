/**
 * `npm run bench startup`: the compiled CLI as whole processes, the way scripts and batch jobs
 * call it, each as a ratio to `node -e 0` measured in the same run (interleaved rounds, medians):
 * `--help`, `--version`, `inspect` of a GGUF with a Llama-7B-sized header (291 tensors, a full
 * 32k-token vocabulary, data region sparse) beside a node process reading the same header with
 * @huggingface/gguf, and `quantize` of a tiny model (stories260K F32 → q8_0) beside a node
 * process calling llama.cpp's llama_model_quantize on the same file.
 * Targets: --help ≤ node + 0.1 s; inspect of the 7B header ≤ 0.25 s (wall). Each row also shows
 * its CPU time (user + sys) and the load average, since other work on a shared machine inflates
 * wall times: compare ratios and the time above node, not absolute seconds.
 *
 *   npm run bench startup            (env BENCH_RUNS=7 BENCH_THREADS=2; needs `npm run build`)
 */
import { existsSync, mkdtempSync, rmSync, truncateSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GgufWriter } from '../../formats/gguf/writer.ts';
import { GgufValueType as V, arr, str, u32, f32 } from '../../formats/gguf/value-types.ts';
import { GgmlTypeId as T } from '../../kernels/ggml-types.ts';
import { CLI, LLAMA_QUANTIZE, timeInterleaved, type ProcessCase } from './whole-process.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const STORIES_F32 = join(ROOT, 'samples/stories260K/reference-convert-f32.gguf');

/** Llama-2-7B's header in Q4_0: 32 layers × 9 tensors + token_embd, output_norm, output = 291. */
export async function writeLlama7bHeader(path: string): Promise<void> {
  const n = 32000, d = 4096, ff = 11008;
  const w = await GgufWriter.open(path);
  w.addKv('general.architecture', str('llama'));
  w.addKv('general.name', str('llama-7b-header'));
  w.addKv('general.file_type', u32(2));
  for (const [k, v] of [['context_length', 4096], ['embedding_length', d], ['block_count', 32], ['feed_forward_length', ff], ['rope.dimension_count', 128], ['attention.head_count', 32], ['attention.head_count_kv', 32]] as const) w.addKv(`llama.${k}`, u32(v));
  w.addKv('llama.attention.layer_norm_rms_epsilon', f32(1e-5));
  w.addKv('tokenizer.ggml.model', str('llama'));
  w.addKv('tokenizer.ggml.tokens', arr(V.STRING, Array.from({ length: n }, (_, i) => (i < 259 ? `<0x${(i % 256).toString(16).padStart(2, '0').toUpperCase()}>` : `▁tok${i.toString(36)}`))));
  w.addKv('tokenizer.ggml.scores', arr(V.FLOAT32, Float32Array.from({ length: n }, (_, i) => -i)));
  w.addKv('tokenizer.ggml.token_type', arr(V.INT32, new Int32Array(n).fill(1)));
  for (const [k, v] of [['bos_token_id', 1], ['eos_token_id', 2], ['unknown_token_id', 0]] as const) w.addKv(`tokenizer.ggml.${k}`, u32(v));
  w.addTensor('token_embd.weight', [d, n], T.Q4_0);
  for (let i = 0; i < 32; i++) {
    w.addTensor(`blk.${i}.attn_norm.weight`, [d], T.F32);
    for (const t of ['attn_q', 'attn_k', 'attn_v', 'attn_output']) w.addTensor(`blk.${i}.${t}.weight`, [d, d], T.Q4_0);
    w.addTensor(`blk.${i}.ffn_gate.weight`, [d, ff], T.Q4_0);
    w.addTensor(`blk.${i}.ffn_up.weight`, [d, ff], T.Q4_0);
    w.addTensor(`blk.${i}.ffn_down.weight`, [ff, d], T.Q4_0);
    w.addTensor(`blk.${i}.ffn_norm.weight`, [d], T.F32);
  }
  w.addTensor('output_norm.weight', [d], T.F32);
  w.addTensor('output.weight', [d, n], T.Q4_0);
  await w.writeHeader();
  await w.abort(); // header only: the data region is a sparse hole of the full size
  const q4 = (cols: number, rows: number) => (cols / 32) * 18 * rows;
  const pad = (x: number) => Math.ceil(x / 32) * 32;
  const data = 2 * pad(q4(d, n)) + 32 * (4 * pad(q4(d, d)) + 3 * pad(q4(d, ff)) + 2 * pad(4 * d)) + pad(4 * d);
  const { statSync } = await import('node:fs');
  truncateSync(path, statSync(path).size + data);
}

export default async function bench(): Promise<void> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  const runs = Math.max(1, Number(process.env.BENCH_RUNS ?? 7));
  const threads = process.env.BENCH_THREADS ?? '2';
  const dir = mkdtempSync(join(tmpdir(), 'gguf-forge-startup-'));
  try {
    const header = join(dir, 'llama-7b-q4_0.gguf');
    await writeLlama7bHeader(header);
    const out = join(dir, 'tiny-q8_0.gguf');
    const theirsOut = join(dir, 'tiny-q8_0-llama.gguf');
    const cases: ProcessCase[] = [
      { label: 'node -e 0', args: ['-e', '0'] },
      { label: 'gguf-forge --help', args: [CLI, '--help'] },
      { label: 'gguf-forge --version', args: [CLI, '--version'] },
      { label: 'gguf-forge inspect 7B header', args: [CLI, 'inspect', header] },
      { label: '@huggingface/gguf reads 7B header', args: ['--input-type=module', '-e', `import { gguf } from '@huggingface/gguf'; await gguf(${JSON.stringify(header)}, { allowLocalFile: true });`] },
      { label: 'gguf-forge quantize tiny → q8_0', args: [CLI, 'quantize', STORIES_F32, out, '--type', 'q8_0', '--threads', threads, '--force'] },
      { label: 'llama_model_quantize tiny → q8_0', args: [LLAMA_QUANTIZE, STORIES_F32, theirsOut, '7', threads], before: () => rmSync(theirsOut, { force: true }) },
    ];
    process.chdir(ROOT); // the @huggingface/gguf case resolves the package from here
    const loadBefore = loadavg();
    const t = timeInterleaved(cases, runs);
    const loadAfter = loadavg();
    const node = t.get('node -e 0')!;
    // Targets are on wall time (what a script waits for); CPU time is the load-robust view of the same run.
    const target: Record<string, { text: string; met: (wall: number) => boolean }> = {
      'gguf-forge --help': { text: `≤ ${(node.median + 0.1).toFixed(3)} s (node + 0.1 s)`, met: (w) => w <= node.median + 0.1 },
      'gguf-forge inspect 7B header': { text: '≤ 0.250 s', met: (w) => w <= 0.25 },
    };
    const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
    console.log(`whole processes, median of ${runs} interleaved runs, ${threads} thread(s) for quantize; load average ${load(loadBefore)} before, ${load(loadAfter)} after (${cpus().length} cores)`);
    console.log('ratio = time / (node -e 0) in the same run; cpu = user + sys of the process; − node = the time above node -e 0\n');
    const head = ['process'.padEnd(36), 'wall s'.padStart(7), 'ratio'.padStart(7), '− node'.padStart(7), 'cpu s'.padStart(7), 'ratio'.padStart(7), '− node'.padStart(7), '  target (wall)'];
    console.log(head.join(' '));
    for (const [label, r] of t) {
      const tg = target[label];
      console.log([
        label.padEnd(36), r.median.toFixed(3).padStart(7), `${(r.median / node.median).toFixed(2)}×`.padStart(7), (r.median - node.median).toFixed(3).padStart(7),
        r.cpuMedian.toFixed(3).padStart(7), `${(r.cpuMedian / node.cpuMedian).toFixed(2)}×`.padStart(7), (r.cpuMedian - node.cpuMedian).toFixed(3).padStart(7),
        tg ? `  ${tg.text}${tg.met(r.median) ? ' (met)' : ' (NOT met)'}` : '',
      ].join(' '));
    }
    const inspect = t.get('gguf-forge inspect 7B header')!, hf = t.get('@huggingface/gguf reads 7B header')!;
    console.log(`\ninspect vs @huggingface/gguf reading the same header: wall ${(hf.median / inspect.median).toFixed(2)}×, cpu ${(hf.cpuMedian / inspect.cpuMedian).toFixed(2)}× (theirs / ours)`);
    console.log(`\nevery run (wall s / cpu s):\n${[...t].map(([l, r]) => `  ${l}: ${r.runs.map((x, i) => `${x.toFixed(3)}/${r.cpuRuns[i]!.toFixed(3)}`).join(' ')}`).join('\n')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
