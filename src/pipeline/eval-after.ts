/**
 * `convert … --eval` and batch jobs' `eval: true`: after a job writes its output, evaluate the
 * output against the job's source (perplexity of both and the KL statistics, the same `eval`
 * pipeline) and add the figures to the job's summary. The job's own 'done' event is held back
 * and re-sent with the figures, so every consumer sees one final summary.
 *
 * With `reportPath` (the job runs without its own), the `--report` JSON is written here, after
 * eval, so it carries the figures. When eval fails, or the job fails after its summary
 * (--fail-on-anomaly), the report is still written — without figures — before the error goes on.
 */
import { writeFileAtomic } from '../../formats/io/atomic-file.ts';
import { staleTempWarnings } from './stale-temps.ts';
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
  /** Write `{complete: true, ...summary}` (with the eval figures) here once eval is done. */
  reportPath?: string;
}

async function* writeReport(path: string | undefined, summary: JobSummary): AsyncGenerator<PipelineEvent, void> {
  if (path) yield* staleTempWarnings(await writeFileAtomic(path, JSON.stringify({ complete: true, ...summary }, null, 2) + '\n'));
}

export async function* withEval(
  job: AsyncGenerator<PipelineEvent, JobSummary>,
  refOf: (s: JobSummary) => string,
  opts: AfterEvalOptions,
): AsyncGenerator<PipelineEvent, JobSummary> {
  let held: JobSummary | undefined;
  let step;
  try {
    step = await job.next();
    while (!step.done) {
      if (step.value.type !== 'done') yield step.value;
      else held = step.value.summary;
      step = await job.next();
    }
  } catch (err) {
    if (held) yield* writeReport(opts.reportPath, held);
    throw err;
  }
  const summary = step.value;
  if ('dryRun' in summary && summary.dryRun) {
    yield { type: 'done', summary };
    return summary;
  }
  const { reportPath, ...evalOpts } = opts;
  let r;
  try {
    r = yield* evalModel({ model: summary.output, ref: refOf(summary), ...evalOpts });
  } catch (err) {
    yield* writeReport(reportPath, summary);
    throw err;
  }
  const k = r.kl!;
  const figures: EvalFigures = {
    text: r.text.source, ctx: r.ctx, chunks: r.chunks,
    ppl: r.model.perplexity.ppl, pplError: r.model.perplexity.pplError, refPpl: r.ref!.perplexity.ppl, pplRatio: k.pplRatio,
    klMean: k.kl.mean, klError: k.kl.error, klMedian: k.kl.median, klP99: k.kl.p99, klMax: k.kl.max,
    sameTop: k.sameTop, rmsDeltaP: k.deltaP.rms,
  };
  const withFigures: JobSummary = { ...summary, eval: figures };
  yield* writeReport(reportPath, withFigures);
  yield { type: 'done', summary: withFigures };
  return withFigures;
}
