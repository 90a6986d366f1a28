/**
 * One batch job as a pipeline generator: the same convert / quantize / AWQ-GPTQ pipelines the
 * single commands run, with the job's options mapped onto theirs.
 */
import { convertModel } from '../pipeline/convert.ts';
import { quantizeGguf } from '../pipeline/quantize.ts';
import { convertAwqGptq } from '../pipeline/awq-gptq.ts';
import type { JobSummary, PipelineEvent } from '../pipeline/events.ts';
import type { BatchJob } from './jobs.ts';
import { withEval } from '../pipeline/eval-after.ts';
import type { Imatrix } from '../../formats/imatrix/imatrix.ts';

export interface JobRunOptions {
  threads: number;
  force: boolean;
  signal: AbortSignal;
  /** `imatrix: auto` results of this batch by source and calibration settings: one computation serves every type of a source. */
  imatrices?: Map<string, Imatrix>;
}

export function jobPipeline(job: BatchJob, run: JobRunOptions): AsyncGenerator<PipelineEvent, JobSummary> {
  const o = job.options;
  const gen = writeOutput(job, run);
  if (!o.eval) return gen;
  // The reference is what the job read: the resolved source folder (convert), the input GGUF (quantize).
  const refOf = (s: JobSummary) => ('dir' in s ? s.dir : job.source);
  return withEval(gen, refOf, { textFile: o.evalText, threads: run.threads, signal: run.signal });
}

function writeOutput(job: BatchJob, run: JobRunOptions): AsyncGenerator<PipelineEvent, JobSummary> {
  const o = job.options;
  switch (job.kind) {
    case 'convert':
      return convertJob(job, run);
    case 'quantize':
      return quantizeGguf({
        input: job.source, output: job.output, fileType: job.type, pure: o.pure, overrides: o.tensorType,
        threads: run.threads, force: run.force, validate: o.validate, signal: run.signal, imatrix: o.imatrix,
      });
    case 'awq':
    case 'gptq':
      return convertAwqGptq({
        source: job.source, output: job.output, method: job.kind, bits: o.bits, groupSize: o.groupSize, sym: o.sym, descAct: o.descAct,
        keepUnaligned: o.keepUnaligned, force: run.force, validate: o.validate, signal: run.signal,
        lossThresholds: { earlyThreshold: o.lossEarlyThreshold, outlierFactor: o.lossOutlierFactor },
        algorithm: o.method,
        calibration: { file: o.calib, samples: o.calibSamples, seqlen: o.calibSeqlen, seed: o.seed, dampPercent: o.dampPercent, staticGroups: o.staticGroups, trueSequential: o.trueSequential, threads: run.threads },
      });
  }
}

async function* convertJob(job: BatchJob, run: JobRunOptions): AsyncGenerator<PipelineEvent, JobSummary> {
  const o = job.options;
  const calib = { file: o.calib, chunks: o.chunks, ctx: o.ctx };
  // `auto` for a local folder: computed by the first job of the source, reused by the others.
  let imatrixComputed: { imatrix: Imatrix; file: string } | undefined;
  if (o.imatrix === 'auto' && run.imatrices && !job.source.startsWith('hf:')) {
    const key = JSON.stringify([job.source, calib]);
    let imatrix = run.imatrices.get(key);
    if (!imatrix) {
      const { computeImatrix } = await import('../pipeline/imatrix-compute.ts');
      imatrix = (yield* computeImatrix({ model: job.source, calibFile: calib.file, chunks: calib.chunks, ctx: calib.ctx, threads: run.threads, signal: run.signal })).imatrix;
      run.imatrices.set(key, imatrix);
    }
    imatrixComputed = { imatrix, file: 'auto' };
  }
  return yield* convertModel({
    source: job.source, output: job.output, fileType: job.type, viaF16: o.via === 'f16', pure: o.pure,
    overrides: o.tensorType, threads: run.threads, force: run.force, validate: o.validate, name: o.name,
    failOnAnomaly: o.failOnAnomaly, signal: run.signal, imatrix: o.imatrix, calib, imatrixComputed,
  });
}
