/** Runs a Hub pull in a test with fast retries, collecting its events. */
import { pullModel, type PullOptions, type PullResult } from '../../src/hub/pull.ts';
import type { PipelineEvent } from '../../src/pipeline/events.ts';
import { runJob } from './run-job.ts';

export async function runPull(opts: PullOptions): Promise<{ events: PipelineEvent[]; result: PullResult }> {
  return runJob(pullModel({ retryDelayMs: 1, ...opts }));
}
