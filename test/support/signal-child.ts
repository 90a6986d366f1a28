/**
 * A CLI-shaped child for the signal test (test/harden-files.test.ts): the real withSigintAbort and
 * reportError around a job that holds an atomic temp output until it is cancelled, as convert does.
 * Prints READY <temp path>, then waits for SIGINT or SIGTERM.
 */
import { withSigintAbort } from '../../src/cli/sigint.ts';
import { reportError } from '../../src/cli/main.ts';
import { createAtomicFile } from '../../formats/io/atomic-file.ts';
import { CancelledError } from '../../formats/errors.ts';

try {
  await withSigintAbort(async (signal) => {
    const out = await createAtomicFile(process.argv[2]!);
    const busy = setInterval(() => {}, 1000); // stands for the pipeline's pending I/O
    try {
      process.stdout.write(`READY ${out.tmpPath}\n`);
      await new Promise((_, reject) => signal.addEventListener('abort', () => reject(new CancelledError(`cancelled while writing ${out.path}`))));
    } finally {
      clearInterval(busy);
      await out.abort();
    }
  });
} catch (err) {
  process.exitCode = reportError(err);
}
