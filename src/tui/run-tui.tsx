/**
 * The TUI's entry for the CLI (main.ts imports it by this name). React's development build
 * records a performance.measure entry for every component render, and Node keeps those entries
 * until someone clears them: about 1.4 MiB of heap per conversion round in the TUI
 * (test/tui-repeat.test.ts). So, unless the user chose a mode, the TUI runs React's production
 * build; the choice must be made before React is first loaded, hence the dynamic import.
 */
import type { TuiDeps } from './app.tsx';

/** `evalText`: the text the report's `e` scores (`gguf-forge --eval-text FILE`). */
export async function runTui(deps?: TuiDeps, opts: { evalText?: string } = {}): Promise<void> {
  process.env.NODE_ENV ??= 'production';
  const { startApp, defaultDeps } = await import('./start-app.tsx');
  await startApp(deps ?? { ...defaultDeps(), ...(opts.evalText ? { evalOptions: { textFile: opts.evalText } } : {}) });
}
