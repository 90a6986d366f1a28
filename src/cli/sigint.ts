/**
 * Runs a job with Ctrl-C wired to an AbortController: the first Ctrl-C asks the pipeline to stop
 * (it removes its temporary output and ends with exit code 130); a second one exits at once.
 */
export async function withSigintAbort<T>(job: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    return await job(controller.signal);
  } finally {
    process.off('SIGINT', onSigint);
  }
}
