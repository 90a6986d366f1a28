/**
 * What every command's action does: run its pipeline generator through the headless consumer
 * with Ctrl-C wired to an abort signal. The generator does all the work, checks included, so an
 * error at any point (a missing input, a bad flag value found late) is printed the same way:
 * a `gguf-forge:` line on stderr, plus the JSON error document under --json / --jsonl.
 */
import type { PipelineEvent } from '../pipeline/events.ts';
import { runHeadless, type HeadlessOptions } from './headless.ts';
import type { OutputModeFlags } from './options.ts';
import { withSigintAbort } from './sigint.ts';

export function runCommand<T, E = PipelineEvent>(
  flags: OutputModeFlags,
  job: (signal: AbortSignal) => AsyncGenerator<E, T>,
  opts: Omit<HeadlessOptions<E, T>, 'json' | 'jsonl'> = {},
): Promise<T> {
  return withSigintAbort((signal) => runHeadless(job(signal), { ...opts, json: flags.json, jsonl: flags.jsonl }));
}
