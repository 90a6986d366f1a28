/**
 * Process-wide list of temporary outputs still being written. On exit, SIGINT or SIGTERM they
 * are removed synchronously, so Ctrl-C never leaves a half-written `.name.xxxx.tmp` behind.
 * Signal handlers are installed only while something is pending. If we are the only listener
 * for a signal we re-raise it afterwards so the process still dies the default way; if the
 * application has its own handler (e.g. a cancelling TUI) we leave the decision to it.
 */
import { rmSync } from 'node:fs';

const pending = new Set<string>();
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

function removeAll(): void {
  for (const p of pending) {
    try {
      rmSync(p, { recursive: true, force: true });
    } catch {
      // best effort while exiting: nothing useful to report
    }
  }
  pending.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  removeAll();
  uninstall();
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

let installed = false;
function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', removeAll);
  for (const s of SIGNALS) process.on(s, onSignal);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.off('exit', removeAll);
  for (const s of SIGNALS) process.off(s, onSignal);
}

export function registerTemp(path: string): void {
  pending.add(path);
  install();
}

export function unregisterTemp(path: string): void {
  pending.delete(path);
  if (pending.size === 0) uninstall();
}

/** Paths currently pending (for tests and diagnostics). */
export function pendingTemps(): readonly string[] {
  return [...pending];
}
