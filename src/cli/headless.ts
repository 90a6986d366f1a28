/**
 * The headless consumer of any pipeline generator (the TUI is the other one). Three modes:
 * - human (default): progress and warnings on stderr — one rewritten line on a TTY, plain lines
 *   otherwise — and the final summary on stdout;
 * - `--jsonl`: every event as one JSON line on stdout, as it happens;
 * - `--json`: one JSON document on stdout at the end (summary plus warnings).
 * Errors are re-thrown for the CLI to map to an exit code; in the JSON modes they are also
 * printed as JSON on stdout so a program reading stdout always gets a document.
 */
import { ForgeError } from '../../formats/errors.ts';
import type { PipelineEvent, WarningEvent } from '../pipeline/events.ts';
import { formatBytes } from '../format-units.ts';
import { DownloadBar } from './download-bar.ts';

export interface HeadlessOptions {
  json?: boolean;
  jsonl?: boolean;
  /** Human rendering of the final result (default: one `key: value` line per scalar field). */
  formatResult?: (result: unknown) => string;
  /** Where to write; default process.stdout / process.stderr (tests pass their own). */
  stdout?: { write(s: string): unknown };
  stderr?: { write(s: string): unknown; isTTY?: boolean; columns?: number };
}

export async function runHeadless<T>(gen: AsyncGenerator<PipelineEvent, T>, opts: HeadlessOptions = {}): Promise<T> {
  const out = opts.stdout ?? process.stdout;
  const err = opts.stderr ?? process.stderr;
  const human = !opts.json && !opts.jsonl;
  const tty = human && Boolean(err.isTTY);
  const warnings: WarningEvent[] = [];
  let sawDone = false;
  let liveLine = false;
  const bar = new DownloadBar(err, tty);
  const clearLine = () => {
    bar.clear();
    if (liveLine) err.write('\r\x1b[K');
    liveLine = false;
  };
  try {
    let step = await gen.next();
    while (!step.done) {
      const ev = step.value;
      if (ev.type === 'warning') warnings.push(ev);
      if (ev.type === 'done') sawDone = true;
      if (opts.jsonl) out.write(JSON.stringify(ev) + '\n');
      else if (human && ev.type === 'download') {
        clearLine();
        bar.handle(ev);
      } else if (human) {
        const line = humanLine(ev, tty);
        if (line !== null) {
          clearLine();
          if (tty && ev.type === 'tensor' && ev.state !== 'done') {
            err.write(line);
            liveLine = true;
          } else err.write(line + '\n');
        }
      }
      step = await gen.next();
    }
    clearLine();
    const result = step.value;
    if (opts.jsonl && !sawDone) out.write(JSON.stringify({ type: 'done', summary: result }) + '\n');
    else if (opts.json) out.write(JSON.stringify({ ok: true, result, warnings }, jsonReplacer, 2) + '\n');
    else if (human) out.write((opts.formatResult ?? defaultFormat)(result) + '\n');
    return result;
  } catch (e) {
    clearLine();
    if (opts.json || opts.jsonl) {
      const error = e instanceof ForgeError ? { kind: e.kind, code: e.code, message: e.message } : { kind: 'internal', code: 'INTERNAL', message: String((e as Error)?.message ?? e) };
      out.write(JSON.stringify(opts.json ? { ok: false, error, warnings } : { type: 'error', error }, jsonReplacer, opts.json ? 2 : undefined) + '\n');
    }
    throw e;
  }
}

/** One human line per event, or null for events not worth a line. */
function humanLine(ev: PipelineEvent, tty: boolean): string | null {
  switch (ev.type) {
    case 'phase':
      return ev.message ? `${ev.phase}: ${ev.message}` : null;
    case 'warning':
      return `warning: ${ev.message}`;
    case 'download':
      return null; // the DownloadBar's
    case 'tensor': {
      const pos = `[${String(ev.index + 1).padStart(String(ev.count).length)}/${ev.count}]`;
      const types = ev.sourceType === ev.targetType ? ev.targetType : `${ev.sourceType} → ${ev.targetType}`;
      if (ev.state === 'done') {
        const m = ev.metrics ? `  rmse ${ev.metrics.rmse.toExponential(3)}  cos ${ev.metrics.cosine.toFixed(6)}` : '';
        return `${pos} ${ev.name} [${ev.shape.join(', ')}] ${types}  ${formatBytes(ev.bytes ?? 0)}${m}`;
      }
      if (!tty) return null;
      const pct = ev.rowsTotal ? ` ${Math.floor((100 * (ev.rowsDone ?? 0)) / ev.rowsTotal)}%` : '';
      return `${pos} ${ev.name} ${types}${pct}`;
    }
    case 'done':
      return null;
  }
}

function defaultFormat(result: unknown): string {
  if (result === null || typeof result !== 'object') return String(result);
  return Object.entries(result as Record<string, unknown>)
    .filter(([, v]) => v === null || typeof v !== 'object')
    .map(([k, v]) => `${k}: ${k.endsWith('Bytes') && typeof v === 'number' ? `${v} (${formatBytes(v)})` : String(v)}`)
    .join('\n');
}


/** JSON cannot hold bigint: safe ones become numbers, others strings. */
function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  return value;
}
