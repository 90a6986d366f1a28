/**
 * A debugging aid the tests use to prove the TUI's memory is steady: with GGUF_FORGE_HEAP_LOG set
 * to a file path, each SIGUSR2 collects garbage (when node runs with --expose-gc) and appends one
 * line "heapUsed rss" in bytes to that file. Off unless the variable is set; writes nothing to
 * the terminal.
 */
import { appendFileSync } from 'node:fs';

export function installHeapLog(env = process.env): () => void {
  const file = env.GGUF_FORGE_HEAP_LOG;
  if (!file) return () => {};
  const onSignal = () => {
    (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    appendFileSync(file, `${m.heapUsed} ${m.rss}\n`);
  };
  process.on('SIGUSR2', onSignal);
  return () => { process.off('SIGUSR2', onSignal); };
}
