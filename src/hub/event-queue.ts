/**
 * Merges events pushed by concurrent workers into one async generator, in arrival order. The
 * generator finishes when the job promise settles, rethrowing its error after the last event.
 */
export async function* drainWhile<T>(push: (sink: (ev: T) => void) => Promise<void>): AsyncGenerator<T, void> {
  const queue: T[] = [];
  let wake: (() => void) | undefined;
  let settled = false;
  let failure: { err: unknown } | undefined;
  const sink = (ev: T) => {
    queue.push(ev);
    wake?.();
  };
  push(sink).then(
    () => { settled = true; wake?.(); },
    (err) => { failure = { err }; settled = true; wake?.(); },
  );
  for (;;) {
    while (queue.length) yield queue.shift()!;
    if (settled) break;
    await new Promise<void>((resolve) => {
      wake = resolve;
      if (queue.length || settled) resolve();
    });
    wake = undefined;
  }
  if (failure) throw failure.err;
}

/** Runs `work` over `items` with at most `limit` in flight; the first failure stops new work. */
export async function runPool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const errors: unknown[] = [];
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next++];
      try {
        await work(item);
      } catch (err) {
        failed = true;
        errors.push(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (errors.length) throw errors[0];
}
