/**
 * Ink's useInput re-subscribes after every render (in a passive effect), so a key that arrives
 * between a render and that effect would reach the previous render's handler and act on stale
 * state. useKeys subscribes one stable handler that always calls the latest one.
 */
import { useCallback, useRef } from 'react';
import { useInput, type Key } from 'ink';

export function useKeys(handler: (input: string, key: Key) => void, opts: { isActive?: boolean } = {}): void {
  const latest = useRef(handler);
  latest.current = handler;
  const stable = useCallback((input: string, key: Key) => latest.current(input, key), []);
  useInput(stable, { isActive: opts.isActive ?? true });
}
