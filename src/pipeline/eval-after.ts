/**
 * `convert … --eval` and batch jobs' `eval: true`: after a job writes its output, evaluate the
 * output against the job's source (perplexity of both and the KL statistics, the same `eval`
 * pipeline) and add the figures to the job's summary. The job's own 'done' event is held back
 * and re-sent with the figures, so every consumer sees one final summary.
 */
import type { JobSummary, PipelineEvent } from './events.ts';
import { evalModel } from './eval.ts';

export interface AfterEvalOptions {
  /** Text file; default the bundled Moby-Dick chapters. */
  textFile?: string;
  ctx?: number;
  chunks?: number;
  threads?: number;
  maxMemory?: number;
  signal?: AbortSignal;
}

/** The figures a report shows beside the per-tensor weight error. */
export interface EvalFigures {
  text: string;
  ctx: number;
  chunks: number;
  ppl: number;
  pplError: number;
  refPpl: number;
  pplRatio: number;
  klMean: number;
  klError: number;
  klMedian: number;
  klP99: number;
  klMax: number;
  /** Top-1 agreement, a fraction. */
  sameTop: number;
  /** RMS of Δp of the correct token, a fraction. */
  rmsDeltaP: number;
}

export async function* withEval(
  job: AsyncGenerator<PipelineEvent, JobSummary>,
  refOf: (s: JobSummary) => string,
  opts: AfterEvalOptions,
): AsyncGenerator<PipelineEvent, JobSummary> {
  let step = await job.next();
  while (!step.done) {
    if (step.value.type !== 'done') yield step.value;
    step = await job.next();
  }
  const summary = step.value;
  if (summary.dryRun) {
    yield { type: 'done', summary };
    return summary;
  }
  const r = yield* evalModel({ model: summary.output, ref: refOf(summary), ...opts });
  const k = r.kl!;
  const figures: EvalFigures = {
    text: r.text.source, ctx: r.ctx, chunks: r.chunks,
    ppl: r.model.perplexity.ppl, pplError: r.model.perplexity.pplError, refPpl: r.ref!.perplexity.ppl, pplRatio: k.pplRatio,
    klMean: k.kl.mean, klError: k.kl.error, klMedian: k.kl.median, klP99: k.kl.p99, klMax: k.kl.max,
    sameTop: k.sameTop, rmsDeltaP: k.deltaP.rms,
  };
  const withFigures: JobSummary = { ...summary, eval: figures };
  yield { type: 'done', summary: withFigures };
  return withFigures;
}

/** One line for reports: `PPL 3.93 vs 3.57 (×1.103), KL 0.068 (p99 0.39), same top 86.5%`. */
export function evalFiguresLine(e: EvalFigures): string {
  return `eval (${e.chunks} chunks of ${e.ctx}): PPL ${e.ppl.toFixed(4)} ± ${e.pplError.toFixed(4)} vs source ${e.refPpl.toFixed(4)} (ratio ${e.pplRatio.toFixed(4)}), ` +
    `KL mean ${e.klMean.toFixed(5)} ± ${e.klError.toFixed(5)}, median ${e.klMedian.toFixed(5)}, p99 ${e.klP99.toFixed(5)}, max ${e.klMax.toFixed(5)}, ` +
    `same top ${(100 * e.sameTop).toFixed(2)}%, RMS Δp ${(100 * e.rmsDeltaP).toFixed(3)}%`;
}
