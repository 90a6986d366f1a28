/**
 * Runs a job with Ctrl-C and SIGTERM wired to an AbortController: the first signal asks the
 * pipeline to stop (it removes its temporary output); a second one exits at once. Ctrl-C ends with
 * exit code 130. SIGTERM takes the same clean path but ends with 143 (128 + 15, what a shell shows
 * for a process SIGTERM killed), so a supervisor (systemd, Kubernetes, CI) can tell "told to stop"
 * from a user's Ctrl-C, as it could before the handler existed.
 */
import { CancelledError, TerminatedError } from '../../formats/errors.ts';

export async function withSigintAbort<T>(job: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let terminated = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(terminated ? 143 : 130);
    terminated = signal === 'SIGTERM';
    // The reason tells a batch (which reports rather than throws) which code to end with.
    controller.abort(terminated ? new TerminatedError() : new CancelledError());
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await job(controller.signal);
  } catch (err) {
    if (terminated && err instanceof CancelledError) throw new TerminatedError();
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
