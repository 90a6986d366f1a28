// Helpers for driving Ink screens through ink-testing-library: wait for a frame, send named keys.
import { EventEmitter } from 'node:events';
import type React from 'react';
import { render as inkRender } from 'ink';
import type { render } from 'ink-testing-library';

export type Rendered = ReturnType<typeof render>;

export const KEYS = {
  enter: '\r',
  escape: '\u001B',
  up: '\u001B[A',
  down: '\u001B[B',
  right: '\u001B[C',
  left: '\u001B[D',
  tab: '\t',
  backspace: '\u007F',
  ctrlC: '\u0003',
} as const;

/** Everything Ink has written so far (static log included), as one string. */
export function allOutput(r: Rendered): string {
  return r.frames.join('\n');
}

export async function waitFor(r: Rendered, pred: (frame: string) => boolean, what: string, timeoutMs = 20_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const frame = r.lastFrame() ?? '';
    if (pred(frame)) return frame;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last frame:\n${frame}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

export const waitForText = (r: Rendered, text: string | RegExp, timeoutMs?: number) =>
  waitFor(r, (f) => (typeof text === 'string' ? f.includes(text) : text.test(f)), `${text}`, timeoutMs);

/** Sends keys one at a time with a pause, as a person (and Ink's input parser) expects. */
export async function press(r: Rendered, ...keys: string[]): Promise<void> {
  for (const k of keys) {
    await settle();
    r.stdin.write(k);
  }
  await settle();
}

/**
 * Lets React finish the commit whose frame we just saw: Ink's useInput subscribes in a passive
 * effect, which React runs in a later macrotask; on a loaded machine a key written before it runs
 * would reach no handler (a person never types that fast after a screen appears).
 */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((res) => setImmediate(res));
  await new Promise((res) => setTimeout(res, 40));
}

/** Renders into a fake terminal `columns` wide (ink-testing-library's is fixed at 100). */
export function renderAt(tree: React.ReactElement, columns: number, rows = 50): { lastFrame: () => string; unmount: () => void; resize: (columns: number) => void; key: (k: string) => void } {
  const frames: string[] = [];
  const stdout = Object.assign(new EventEmitter(), { columns, rows, write: (f: string) => { frames.push(f); return true; } });
  const stdin = Object.assign(new EventEmitter(), {
    isTTY: true, setEncoding() {}, setRawMode() {}, resume() {}, pause() {}, ref() {}, unref() {}, read: (): string | null => null,
  });
  const inst = inkRender(tree, { stdout: stdout as never, stderr: stdout as never, stdin: stdin as never, debug: true, exitOnCtrlC: false, patchConsole: false });
  return {
    lastFrame: () => frames.at(-1) ?? '',
    unmount: () => inst.unmount(),
    resize: (c: number) => { stdout.columns = c; stdout.emit('resize'); },
    // Ink reads stdin on 'readable' until read() returns null.
    key: (k: string) => { let pending: string | null = k; stdin.read = () => { const x = pending; pending = null; return x; }; stdin.emit('readable'); },
  };
}
