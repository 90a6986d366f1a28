/**
 * The headless consumer of any pipeline generator (the TUI is the other one). Three modes:
 * - human (default): progress and warnings on stderr — one rewritten line on a TTY, plain lines
 *   otherwise — and the final summary on stdout;
 * - `--jsonl`: every event as one JSON line on stdout, as it happens;
 * - `--json`: one JSON document on stdout at the end (summary plus warnings).
 * Errors are re-thrown for the CLI to map to an exit code; in the JSON modes they are also
 * printed as JSON on stdout so a program reading stdout always gets a document.
 */
import { ForgeError, safeMessage, untrusted } from '../../formats/errors.ts';
import type { PipelineEvent, WarningEvent } from '../pipeline/events.ts';
import { formatBytes } from '../format-units.ts';
import { drain } from '../pipeline/drain.ts';
import { DownloadBar } from './download-bar.ts';
import { calibProgressText } from '../pipeline/calib-progress-text.ts';
import { imatrixProgressText } from '../pipeline/imatrix-text.ts';

export interface HeadlessOptions<E = PipelineEvent, T = unknown> {
  json?: boolean;
  jsonl?: boolean;
  /** Human rendering of the final result (default: one `key: value` line per scalar field). */
  formatResult?: (result: T) => string;
  /** `ok` in the --json document (default true when the generator returns): batch says false when a job failed. */
  ok?: (result: T) => boolean;
  /** Human rendering of events when the stream is not a PipelineEvent stream (batch); returns nothing to print. */
  humanEvent?: (ev: E) => void;
  /** Called once after the stream ends or fails, before the result or error is printed (clears live lines). */
  finish?: () => void;
  /** Where to write; default process.stdout / process.stderr (tests pass their own). */
  stdout?: { write(s: string): unknown };
  stderr?: { write(s: string): unknown; isTTY?: boolean; columns?: number };
}

/** An event at the top of a stream: batch tags its jobs' events with `job`, those are not the end. */
const isFinalDone = (ev: unknown) => (ev as { type?: string }).type === 'done' && !('job' in (ev as object));

export async function runHeadless<T, E = PipelineEvent>(gen: AsyncGenerator<E, T>, opts: HeadlessOptions<E, T> = {}): Promise<T> {
  const out = opts.stdout ?? process.stdout;
  const err = opts.stderr ?? process.stderr;
  const human = !opts.json && !opts.jsonl;
  const tty = human && Boolean(err.isTTY);
  const warnings: WarningEvent[] = [];
  let lastWasDone = false;
  let liveLine = false;
  const bar = new DownloadBar(err, tty);
  const clearLine = () => {
    bar.clear();
    if (liveLine) err.write('\r\x1b[K');
    liveLine = false;
  };
  const humanEvent = opts.humanEvent ?? ((e: E) => {
    const ev = e as PipelineEvent;
    if (ev.type === 'download') {
      clearLine();
      bar.handle(ev);
      return;
    }
    const line = humanLine(ev, tty);
    if (line === null) return;
    clearLine();
    if (tty && ((ev.type === 'tensor' && ev.state !== 'done') || (ev.type === 'eval' && ev.state === 'layer') || (ev.type === 'calibrate' && ev.state === 'module') || (ev.type === 'imatrix' && ev.state === 'layer'))) {
      err.write(line);
      liveLine = true;
    } else err.write(line + '\n');
  });
  try {
    const result = await drain(gen, (ev) => {
      if ((ev as { type?: string }).type === 'warning' && !('job' in (ev as object))) warnings.push(ev as WarningEvent);
      lastWasDone = isFinalDone(ev);
      if (opts.jsonl) out.write(JSON.stringify(ev, jsonReplacer) + '\n');
      else if (human) humanEvent(ev);
    });
    clearLine();
    opts.finish?.();
    // --jsonl always ends with a done line: the pipeline's own, or one made from the result.
    if (opts.jsonl && !lastWasDone) out.write(JSON.stringify({ type: 'done', summary: result }, jsonReplacer) + '\n');
    else if (opts.json) out.write(JSON.stringify({ ok: opts.ok?.(result) ?? true, result, warnings }, jsonReplacer, 2) + '\n');
    else if (human) out.write((opts.formatResult ?? defaultFormat)(result) + '\n');
    return result;
  } catch (e) {
    clearLine();
    opts.finish?.();
    if (opts.json || opts.jsonl) writeJsonError(e, { json: opts.json, stdout: out, warnings });
    throw e;
  }
}

const printed = new WeakSet<object>();

/** True once an error's JSON document has been written (so main() does not write a second one). */
export const jsonErrorPrinted = (e: unknown): boolean => typeof e === 'object' && e !== null && printed.has(e);

/** The error document of --json (`{ok:false, error, warnings}`) or the last line of --jsonl (`{type:'error', error}`). */
export function writeJsonError(e: unknown, opts: { json?: boolean; stdout?: { write(s: string): unknown }; warnings?: WarningEvent[] }): void {
  if (typeof e === 'object' && e !== null) printed.add(e);
  const out = opts.stdout ?? process.stdout;
  const error = e instanceof ForgeError ? { kind: e.kind, code: e.code, message: e.message } : { kind: 'internal', code: 'INTERNAL', message: String((e as Error)?.message ?? e) };
  out.write(JSON.stringify(opts.json ? { ok: false, error, warnings: opts.warnings ?? [] } : { type: 'error', error }, jsonReplacer, opts.json ? 2 : undefined) + '\n');
}

/** One human line per event, or null for events not worth a line. */
function humanLine(ev: PipelineEvent, tty: boolean): string | null {
  switch (ev.type) {
    case 'phase':
      return ev.message ? `${ev.phase}: ${ev.message}` : null;
    case 'warning':
      return `warning: ${safeMessage(ev.message)}`; // warnings quote input files too
    case 'download':
      return null; // the DownloadBar's
    case 'tensor': {
      const pos = `[${String(ev.index + 1).padStart(String(ev.count).length)}/${ev.count}]`;
      const types = ev.sourceType === ev.targetType ? ev.targetType : `${ev.sourceType} → ${ev.targetType}`;
      if (ev.state === 'done') {
        const m = ev.metrics ? `  rmse ${ev.metrics.rmse.toExponential(3)}  cos ${ev.metrics.cosine.toFixed(6)}` : '';
        return `${pos} ${untrusted(ev.name)} [${ev.shape.join(', ')}] ${types}  ${formatBytes(ev.bytes ?? 0)}${m}`;
      }
      if (!tty) return null;
      const pct = ev.rowsTotal ? ` ${Math.floor((100 * (ev.rowsDone ?? 0)) / ev.rowsTotal)}%` : '';
      return `${pos} ${untrusted(ev.name)} ${types}${pct}`;
    }
    case 'eval': {
      const rate = ev.tokensPerSecond ? `, ${ev.tokensPerSecond.toFixed(0)} tokens/s` : '';
      const figs = `${ev.ppl !== undefined ? `  PPL ${ev.ppl.toFixed(4)}` : ''}${ev.klMean !== undefined ? `  KL ${ev.klMean.toFixed(5)}` : ''}`;
      if (ev.state === 'layer') return tty ? `eval: chunk ${ev.chunksDone}/${ev.chunksTotal}, ${ev.model} block ${ev.layer! + 1}/${ev.nLayer}${rate}` : null;
      return `eval: ${ev.chunksDone}/${ev.chunksTotal} chunks${rate}${figs}`;
    }
    case 'calibrate':
      // On a TTY each module rewrites the live line; piped output gets one line per layer.
      return ev.state === 'module' && !tty ? null : calibProgressText(ev);
    case 'imatrix':
      return ev.state === 'layer' && !tty ? null : imatrixProgressText(ev);
    case 'done':
      return null;
  }
}

function formatEta(s: number): string {
  if (s < 90) return `${Math.ceil(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
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
