/**
 * The one loop over a pipeline generator (every consumer — headless printer, TUI, batch, pull —
 * goes through it): each event to `onEvent`, in order, then the generator's return value. If
 * `onEvent` throws, the generator is closed (its `finally` blocks run) and the error propagates.
 */
export async function drain<E, R>(gen: AsyncGenerator<E, R>, onEvent: (ev: E) => unknown): Promise<R> {
  for (;;) {
    const step = await gen.next();
    if (step.done) return step.value;
    try {
      await onEvent(step.value);
    } catch (err) {
      await gen.return(undefined as R).catch(() => undefined);
      throw err;
    }
  }
}
