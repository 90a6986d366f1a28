/**
 * Run: downloads, then per-tensor progress. The last finished tensors (with their round-trip
 * error) scroll in a window inside the live frame, sized to the terminal's rows.
 *
 * No Ink <Static> here, on purpose: Ink 6.8 keeps `rootNode.staticNode` pointing at a <Static>
 * after React unmounts it and Yoga frees its node, so the next render after leaving this screen
 * read freed wasm memory (a crash in getComputedWidth, or a runaway Output.get on garbage sizes).
 * The TUI is a stack of screens; nothing in it writes to Ink's static log (test/tui-static.test.ts).
 *
 * Esc or Ctrl-C asks first, then aborts the pipeline, which removes its temporary output.
 */
import React, { useEffect, useRef, useState } from 'react';
import { Box, Text } from 'ink';
import { useKeys } from '../use-keys.ts';
import { Bar, ErrorLine, Frame, truncate, useHeight, useWidth } from '../components.tsx';
import { actionFor, keyName } from '../keymap.ts';
import { tone } from '../theme.ts';
import { formatBytes } from '../../format-units.ts';
import { CancelledError } from '../../../formats/errors.ts';
import type { ConvertOptions } from '../../pipeline/convert.ts';
import type { CalibProgressEvent, ImatrixProgressEvent, JobSummary, PipelineEvent, TensorEvent } from '../../pipeline/events.ts';
import { calibProgressText } from '../../pipeline/calib-progress-text.ts';
import { imatrixProgressText } from '../../pipeline/imatrix-text.ts';
import { DownloadView, useDownloads } from './download-view.tsx';
import type { ConvertFn } from './plan.tsx';

export type StartJob = (signal: AbortSignal) => AsyncGenerator<PipelineEvent, JobSummary>;

/** Rows the frame needs around the finished-tensor window (title, phase, bars, hints, margins). */
const CHROME_ROWS = 12;

/** The run of a GGUF conversion (`convert` with `request`) or of any other job (`start`). */
export function Run({ request, convert, start, title, active, onDone, onCancelled, onBack }: {
  request?: ConvertOptions; convert?: ConvertFn; start?: StartJob; title?: string; active: boolean;
  onDone: (s: JobSummary) => void; onCancelled: () => void; onBack: () => void;
}) {
  const width = useWidth();
  const height = useHeight();
  const ctl = useRef(new AbortController());
  const [phase, setPhase] = useState('starting');
  const [finished, setFinished] = useState<TensorEvent[]>([]);
  const [current, setCurrent] = useState<TensorEvent | null>(null);
  const [warnings, setWarnings] = useState(0);
  const [calib, setCalib] = useState<CalibProgressEvent | null>(null);
  const [imatrix, setImatrix] = useState<ImatrixProgressEvent | null>(null);
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const downloads = useDownloads();

  useEffect(() => {
    const signal = ctl.current.signal;
    (async () => {
      const gen = start ? start(signal) : convert!({ ...request!, dryRun: false, signal });
      let step = await gen.next();
      while (!step.done) {
        const ev = step.value;
        if (ev.type === 'phase') setPhase(ev.message ?? ev.phase);
        else if (ev.type === 'download') downloads.onEvent(ev);
        else if (ev.type === 'warning') setWarnings((w) => w + 1);
        else if (ev.type === 'calibrate') setCalib(ev);
        else if (ev.type === 'imatrix') setImatrix(ev);
        else if (ev.type === 'tensor') {
          if (ev.state === 'done') { setFinished((f) => [...f, ev]); setCurrent(null); } else setCurrent(ev);
        }
        step = await gen.next();
      }
      onDone(step.value);
    })().catch((err) => {
      if (err instanceof CancelledError || signal.aborted) onCancelled();
      else setError((err as Error).message);
    });
    return () => ctl.current.abort();
  }, []);

  useKeys((input, key) => {
    const name = keyName(input, key);
    if (error) {
      if (actionFor('run', name) === 'cancel') onBack();
      return;
    }
    if (asking) {
      const a = actionFor('cancel', name);
      if (a === 'yes' || name === 'ctrl+c') { setAsking(false); setPhase('cancelling…'); ctl.current.abort(); }
      else if (a === 'no') setAsking(false);
      return;
    }
    if (actionFor('run', name) === 'cancel') setAsking(true);
  }, { isActive: active });

  const count = current?.count ?? finished[0]?.count ?? 0;
  const nameW = Math.max(24, Math.min(48, width - 58));
  const downloadRows = downloads.state.overall ? 3 + Math.min(6, downloads.state.files.size) : 0;
  const logRows = Math.max(1, height - CHROME_ROWS - downloadRows - (calib ? 2 : 0) - (imatrix ? 2 : 0));
  const recent = finished.slice(-logRows);
  // AWQ/GPTQ types (awq-int4-g128) are longer than GGUF ones; their events carry no byte count.
  const typeW = Math.max(6, ...recent.map((t) => t.targetType.length));
  const size = (t: TensorEvent) => (t.bytes !== undefined ? formatBytes(t.bytes) : t.shape.join('×')).padStart(11);
  const hints = error ? 'esc back' : asking ? 'y cancel · n keep going' : 'esc / ctrl-c cancel';
  return (
    <Frame title={title ?? `converting · ${request?.fileType} → ${request?.output}`} hints={hints}>
      <Text>{truncate(phase, width - 1)}</Text>
      <DownloadView state={downloads.state} />
      {imatrix ? <ImatrixLine ev={imatrix} width={width} /> : null}
      {calib ? <CalibLine ev={calib} width={width} /> : null}
      {recent.length ? (
        <Box flexDirection="column" marginTop={1}>
          {finished.length > recent.length ? <Text color={tone('dim')}>  ↑ {finished.length - recent.length} earlier</Text> : null}
          {recent.map((t) => (
            <Text key={t.name}>
              <Text color={tone('good')}>✓</Text> {String(t.index + 1).padStart(String(t.count).length)}/{t.count} {truncate(t.name, nameW).padEnd(nameW)} {t.targetType.padEnd(typeW)} {size(t)}
              {t.metrics ? `  rel ${t.metrics.relFrobenius.toExponential(2)}  SNR ${t.metrics.snrDb.toFixed(1)} dB` : ''}
            </Text>
          ))}
        </Box>
      ) : null}
      {count ? <Text>tensors   <Bar fraction={finished.length / count} /> {finished.length}/{count}{warnings ? <Text color={tone('warn')}>  {warnings} warning{warnings === 1 ? '' : 's'}</Text> : null}</Text> : null}
      {current ? (
        <Text>now       {truncate(current.name, nameW)} {current.sourceType}→{current.targetType} <Bar width={12} fraction={current.rowsTotal ? (current.rowsDone ?? 0) / current.rowsTotal : 0} /></Text>
      ) : null}
      {error ? <ErrorLine message={error} /> : null}
      {asking ? <Text bold color={tone('warn')}>Cancel the conversion? Nothing partial will be left. (y/n)</Text> : null}
    </Frame>
  );
}

/** Layers calibrated so far as a bar, and the progress line (layer i/N, module, samples, ETA). */
function CalibLine({ ev, width }: { ev: CalibProgressEvent; width: number }) {
  const done = ev.state === 'done' ? ev.nLayer : ev.state === 'layer' ? ev.layer + 1 : ev.layer;
  return (
    <Box flexDirection="column">
      <Text>layers    <Bar fraction={ev.nLayer ? done / ev.nLayer : 0} /> {done}/{ev.nLayer}</Text>
      <Text color={ev.state === 'done' ? tone('good') : undefined}>{truncate(calibProgressText(ev), width - 1)}</Text>
    </Box>
  );
}

/** `--imatrix auto`: chunks of calibration text run so far as a bar, and the progress line (block, rate). */
function ImatrixLine({ ev, width }: { ev: ImatrixProgressEvent; width: number }) {
  const done = ev.chunksDone === ev.chunksTotal && ev.state === 'chunk';
  return (
    <Box flexDirection="column">
      <Text>imatrix   <Bar fraction={ev.chunksTotal ? ev.chunksDone / ev.chunksTotal : 0} /> {ev.chunksDone}/{ev.chunksTotal} chunks</Text>
      <Text color={done ? tone('good') : undefined}>{truncate(imatrixProgressText(ev), width - 1)}</Text>
    </Box>
  );
}
