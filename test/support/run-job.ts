/** Drains a pipeline generator in a test, collecting its events and returning its result. */
import type { GroupwiseSummary, PipelineEvent } from '../../src/pipeline/events.ts';
import { convertAwqGptq, type AwqGptqOptions } from '../../src/pipeline/awq-gptq.ts';

export async function runJob<T>(gen: AsyncGenerator<PipelineEvent, T>): Promise<{ result: T; events: PipelineEvent[] }> {
  const events: PipelineEvent[] = [];
  let step = await gen.next();
  while (!step.done) {
    events.push(step.value);
    step = await gen.next();
  }
  return { result: step.value, events };
}

/** An AWQ/GPTQ conversion drained in a test (events to `onEvent`); its summary. */
export async function runAwqGptqConvert(options: AwqGptqOptions, onEvent?: (e: PipelineEvent) => void): Promise<GroupwiseSummary> {
  const gen = convertAwqGptq(options);
  for (let r = await gen.next(); ; r = await gen.next()) {
    if (r.done) return r.value;
    onEvent?.(r.value);
  }
}
