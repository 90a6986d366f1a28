/**
 * `gguf-forge eval MODEL [--ref REF]`: perplexity as llama-perplexity computes it and, with a
 * reference, its KL-divergence statistics, from one streamed pass over both models (no logits file).
 */
import type { Command } from 'commander';
import { UsageError } from '../../../formats/errors.ts';
import { evalModel, type EvalSummary } from '../../pipeline/eval.ts';
import { DEFAULT_EVAL_CTX } from '../../pipeline/eval-plan.ts';
import { runHeadless } from '../headless.ts';
import { withSigintAbort } from '../sigint.ts';

interface EvalFlags {
  ref?: string;
  text?: string;
  ctx: string;
  chunks?: string;
  threads?: string;
  maxMemory: string;
  json?: boolean;
  jsonl?: boolean;
}

export function register(program: Command): void {
  program
    .command('eval')
    .description('perplexity of a model (GGUF, HF or AWQ/GPTQ folder) and, with --ref, KL divergence against the original, as llama-perplexity reports them')
    .argument('<model>', 'GGUF file, HF model folder, or AWQ/GPTQ checkpoint folder')
    .option('--ref <model>', 'the reference (usually the original HF folder): adds KL divergence, top-1 agreement, Δp and the PPL ratio')
    .option('--text <file>', 'text to score (default: Moby-Dick chapters 1–10, bundled)')
    .option('--ctx <n>', 'tokens per chunk; the second half of each chunk is scored', String(DEFAULT_EVAL_CTX))
    .option('--chunks <n>', 'score at most this many chunks (default: all)')
    .option('--threads <n>', 'worker threads (default: all cores)')
    .option('--max-memory <size>', 'memory budget deciding how many chunks go through the layers together (e.g. 512M, 2G)', '1G')
    .option('--json', 'print one JSON document at the end on stdout')
    .option('--jsonl', 'print every event as a JSON line on stdout')
    .action(async (model: string, flags: EvalFlags) => {
      if (flags.json && flags.jsonl) throw new UsageError('BAD_FLAGS', '--json and --jsonl are mutually exclusive');
      const opts = {
        model, ref: flags.ref, textFile: flags.text, ctx: positiveInt('--ctx', flags.ctx)!, chunks: positiveInt('--chunks', flags.chunks),
        threads: positiveInt('--threads', flags.threads), maxMemory: parseSize('--max-memory', flags.maxMemory),
      };
      await withSigintAbort((signal) => runHeadless(evalModel({ ...opts, signal }), { json: flags.json, jsonl: flags.jsonl, formatResult: formatEval }));
    });
}

function positiveInt(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError('BAD_FLAGS', `${flag} must be a positive integer, got '${v}'`);
  return n;
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
