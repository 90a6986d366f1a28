/** Download progress (per file and overall, rate, ETA) from the pipeline's download events. */
import React, { useRef, useState } from 'react';
import { Box, Text } from 'ink';
import { Bar, truncate } from '../components.tsx';
import { formatBytes } from '../../format-units.ts';
import type { DownloadEvent, TransferProgress } from '../../pipeline/events.ts';

export interface DownloadState {
  files: Map<string, DownloadEvent>;
  overall: TransferProgress | null;
}

export function useDownloads() {
  const ref = useRef<DownloadState>({ files: new Map(), overall: null });
  const [state, setState] = useState<DownloadState>(ref.current);
  return {
    state,
    onEvent(ev: DownloadEvent) {
      ref.current.files.set(ev.file, ev);
      ref.current = { files: ref.current.files, overall: ev.overall };
      setState(ref.current);
    },
  };
}

const eta = (s: number | null) => (s === null ? '?' : s < 60 ? `${Math.ceil(s)} s` : `${Math.floor(s / 60)} min ${Math.ceil(s % 60)} s`);

export function DownloadView({ state }: { state: DownloadState }) {
  if (!state.overall) return null;
  const files = [...state.files.values()].filter((f) => f.state !== 'done' && f.state !== 'cached').slice(0, 6);
  const o = state.overall;
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text>download  <Bar fraction={o.bytesTotal ? o.bytesDone / o.bytesTotal : 0} /> {formatBytes(o.bytesDone)} / {formatBytes(o.bytesTotal)}  {formatBytes(o.rate)}/s  ETA {eta(o.etaSeconds)}</Text>
      {files.map((f) => (
        <Text key={f.file}>  {truncate(f.file, 28).padEnd(28)} <Bar width={16} fraction={f.fileProgress.bytesTotal ? f.fileProgress.bytesDone / f.fileProgress.bytesTotal : 0} /> {formatBytes(f.fileProgress.rate)}/s{f.retry ? ` · retry ${f.retry.attempt}/${f.retry.retries}` : ''}</Text>
      ))}
      <Text>  {[...state.files.values()].filter((f) => f.state === 'done' || f.state === 'cached').length} of {state.files.size} files complete</Text>
    </Box>
  );
}
