/**
 * `convert … --eval` and batch jobs' `eval: true`: after a job writes its output, evaluate the
 * output against the job's source (perplexity of both and the KL statistics, the same `eval`
 * pipeline) and add the figures to the job's summary. The job's own 'done' event is held back
 * and re-sent with the figures, so every consumer sees one final summary.
 */
import type { JobSummary, PipelineEvent } from './events.ts';
import { evalModel } from './eval.ts';
import type { EvalFigures } from './eval-figures.ts';

export type { EvalFigures } from './eval-figures.ts';

export interface AfterEvalOptions {
  /** Text file; default the bundled Moby-Dick chapters. */
  textFile?: string;
  ctx?: number;
  chunks?: number;
  threads?: number;
  maxMemory?: number;
  signal?: AbortSignal;
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
  if ('dryRun' in summary && summary.dryRun) {
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
