/** Drains a pipeline generator in a test, collecting its events and returning its result. */
import type { PipelineEvent } from '../../src/pipeline/events.ts';
import { drain } from '../../src/pipeline/drain.ts';

export async function runJob<T>(gen: AsyncGenerator<PipelineEvent, T>): Promise<{ result: T; events: PipelineEvent[] }> {
  const events: PipelineEvent[] = [];
  const result = await drain(gen, (ev) => events.push(ev));
  return { result, events };
}
