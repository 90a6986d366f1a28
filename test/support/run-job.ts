/** Drains a pipeline generator in a test, collecting its events and returning its result. */
import type { GroupwiseSummary, PipelineEvent } from '../../src/pipeline/events.ts';
import { convertAwqGptq, type AwqGptqOptions } from '../../src/pipeline/awq-gptq.ts';
import { drain } from '../../src/pipeline/drain.ts';

export async function runJob<T>(gen: AsyncGenerator<PipelineEvent, T>): Promise<{ result: T; events: PipelineEvent[] }> {
  const events: PipelineEvent[] = [];
  const result = await drain(gen, (ev) => events.push(ev));
  return { result, events };
}

/**
 * An AWQ/GPTQ conversion drained in a test (events to `onEvent`); its summary. Layout tests run
 * round-to-nearest unless they ask for a calibrated `algorithm` (calibration is the pipeline's default).
 */
export async function runAwqGptqConvert(options: AwqGptqOptions, onEvent?: (e: PipelineEvent) => void): Promise<GroupwiseSummary> {
  return drain(convertAwqGptq({ algorithm: 'rtn', ...options }), (e) => onEvent?.(e));
}
