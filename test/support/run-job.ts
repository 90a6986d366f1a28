/** Drains a pipeline generator in a test, collecting its events and returning its result. */
import type { PipelineEvent } from '../../src/pipeline/events.ts';

export async function runJob<T>(gen: AsyncGenerator<PipelineEvent, T>): Promise<{ result: T; events: PipelineEvent[] }> {
  const events: PipelineEvent[] = [];
  let step = await gen.next();
  while (!step.done) {
    events.push(step.value);
    step = await gen.next();
  }
  return { result: step.value, events };
}
