/**
 * `gguf-forge eval MODEL [--ref REF]`: perplexity as llama-perplexity computes it and, with a
 * reference, its KL-divergence statistics, from one streamed pass over both models (no logits file).
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../../../formats/errors.ts';
import type { EvalSummary } from '../../pipeline/eval.ts';
import { positiveInteger } from '../../options/values.ts';
import { addOutputModes, parser, threadsOption, type OutputModeFlags } from '../options.ts';
import { runCommand } from '../run-command.ts';

interface EvalFlags extends OutputModeFlags {
  ref?: string;
  text?: string;
  ctx?: number;
  chunks?: number;
  threads?: number;
  maxMemory: number;
}

export function register(program: Command): void {
  const cmd = program
    .command('eval')
    .description('perplexity of a model (GGUF, HF or AWQ/GPTQ folder) and, with --ref, KL divergence against the original, as llama-perplexity reports them')
    .argument('<model>', 'GGUF file, HF model folder, or AWQ/GPTQ checkpoint folder')
    .option('--ref <model>', 'the reference (usually the original HF folder): adds KL divergence, top-1 agreement, Δp and the PPL ratio')
    .option('--text <file>', 'text to score (default: Moby-Dick chapters 1–10, bundled)')
    .addOption(new Option('--ctx <n>', 'tokens per chunk; the second half of each chunk is scored (default: 512, or the model\'s shorter context)').argParser(parser(positiveInteger)))
    .addOption(new Option('--chunks <n>', 'score at most this many chunks (default: all)').argParser(parser(positiveInteger)))
    .addOption(threadsOption())
    .addOption(new Option('--max-memory <size>', 'memory budget deciding how many chunks go through the layers together (e.g. 512M, 2G)').default(1024 ** 3, '1G').argParser(parser((v) => parseSize('--max-memory', v))));
  addOutputModes(cmd).action(async (model: string, flags: EvalFlags) => {
    await runCommand(flags, async function* (signal) {
      const { evalModel } = await import('../../pipeline/eval.ts');
      return yield* evalModel({ model, ref: flags.ref, textFile: flags.text, ctx: flags.ctx, chunks: flags.chunks, threads: flags.threads, maxMemory: flags.maxMemory, signal });
    }, { formatResult: formatEval });
  });
}

/** `1073741824`, `512M`, `1G`, `1.5GiB` → bytes (binary units). */
export function parseSize(flag: string, v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?$/i.exec(v.trim());
  if (!m) throw new UsageError('BAD_FLAGS', `${flag} must be a size such as 512M or 2G, got '${v}'`);
  const exp = ' kmgt'.indexOf((m[2] || ' ').toLowerCase());
  return Math.round(Number(m[1]) * 1024 ** exp);
}

const f = (x: number, d = 4) => x.toFixed(d);
const pct = (x: number, d = 3) => `${(100 * x).toFixed(d)}%`;

/** Human summary, in llama-perplexity's terms and order. */
export function formatEval(result: unknown): string {
  const s = result as EvalSummary;
  const p = s.model.perplexity;
  const lines = [
    `text: ${s.text.source}, ${s.text.tokens} tokens; ${s.chunks} chunks of ${s.ctx}, ${s.scoredPositions} positions scored`,
    `model: ${s.model.path} (${s.model.arch}, ${s.model.storage})`,
    `Final estimate: PPL = ${f(p.ppl)} +/- ${f(p.pplError, 5)}`,
  ];
  if (s.ref && s.kl) {
    const k = s.kl;
    lines.push(
      `reference: ${s.ref.path} (${s.ref.arch}, ${s.ref.storage}): PPL = ${f(s.ref.perplexity.ppl)} +/- ${f(s.ref.perplexity.pplError, 5)}`,
      '',
      `Mean PPL(Q)/PPL(base)         : ${f(k.pplRatio, 6)} ± ${f(k.pplRatioError, 6)}`,
      `Mean ln(PPL(Q)/PPL(base))     : ${f(k.lnPplRatio, 6)} ± ${f(k.lnPplRatioError, 6)}`,
      `Mean    KLD: ${f(k.kl.mean, 6)} ± ${f(k.kl.error, 6)}`,
      `Maximum KLD: ${f(k.kl.max, 6)}   99.9%: ${f(k.kl.p999, 6)}   99%: ${f(k.kl.p99, 6)}   95%: ${f(k.kl.p95, 6)}   90%: ${f(k.kl.p90, 6)}   Median: ${f(k.kl.median, 6)}`,
      `Same top p : ${pct(k.sameTop)} ± ${pct(k.sameTopError)}`,
      `Mean    Δp : ${pct(k.deltaP.mean)} ± ${pct(k.deltaP.error)}   RMS Δp: ${pct(k.deltaP.rms)} ± ${pct(k.deltaP.rmsError)}`,
    );
  }
  lines.push(`${s.seconds.toFixed(1)} s, ${s.tokensPerSecond.toFixed(0)} tokens/s (${s.engine} kernels, ${s.seqPerPass} chunk(s) per pass)`);
  return lines.join('\n');
}
