/**
 * Small shared pieces: a screen frame (title + key hints), a windowed selectable list, a text
 * field, and a progress bar. No data logic here.
 */
import React, { useEffect, useState } from 'react';
import { Box, Text, useStdout } from 'ink';
import { layoutWidth, MIN_ROWS, tone } from './theme.ts';
import { useClaimTextEntry } from './text-entry.tsx';

/** The layout width, re-rendering when the terminal is resized. */
export function useWidth(): number {
  const { stdout } = useStdout();
  const [columns, setColumns] = useState(stdout?.columns);
  useEffect(() => {
    const onResize = () => setColumns(stdout.columns);
    stdout?.on('resize', onResize);
    return () => { stdout?.off('resize', onResize); };
  }, [stdout]);
  return layoutWidth(columns);
}

/** The terminal's rows (24 when unknown, the smallest terminal the layout promises to fit). */
export function useHeight(): number {
  const { stdout } = useStdout();
  const [rows, setRows] = useState(stdout?.rows);
  useEffect(() => {
    const onResize = () => setRows(stdout.rows);
    stdout?.on('resize', onResize);
    return () => { stdout?.off('resize', onResize); };
  }, [stdout]);
  return Math.max(MIN_ROWS, rows ?? MIN_ROWS);
}

/** A screen: title, body and key hints. `helpKey` is false where a text field always has the keyboard (then `?` is text). */
export function Frame({ title, hints, helpKey = true, children }: { title: string; hints?: string; helpKey?: boolean; children?: React.ReactNode }) {
  return (
    <Box flexDirection="column">
      <Text bold color={tone('accent')}>gguf-forge · {title}</Text>
      <Box flexDirection="column" marginTop={1}>{children}</Box>
      {hints ? <Box marginTop={1}><Text color={tone('dim')}>{hints}{helpKey ? ' · ? help' : ''}</Text></Box> : null}
    </Box>
  );
}

/** The rows [start, end) to show so `selected` stays visible in a window of `height`. */
export function visibleWindow(count: number, selected: number, height: number): [number, number] {
  if (count <= height) return [0, count];
  const start = Math.min(Math.max(0, selected - Math.floor(height / 2)), count - height);
  return [start, start + height];
}

export function SelectList<T>({ items, selected, height = 12, render }: { items: T[]; selected: number; height?: number; render: (item: T, isSelected: boolean) => React.ReactNode }) {
  const [start, end] = visibleWindow(items.length, selected, height);
  return (
    <Box flexDirection="column">
      {start > 0 ? <Text color={tone('dim')}>  ↑ {start} more</Text> : null}
      {items.slice(start, end).map((item, i) => {
        const isSel = start + i === selected;
        return (
          <Box key={start + i}>
            <Text color={isSel ? tone('accent') : undefined}>{isSel ? '› ' : '  '}</Text>
            {render(item, isSel)}
          </Box>
        );
      })}
      {end < items.length ? <Text color={tone('dim')}>  ↓ {items.length - end} more</Text> : null}
    </Box>
  );
}

export function TextField({ label, value, focused = true }: { label: string; value: string; focused?: boolean }) {
  useClaimTextEntry(focused);
  return (
    <Text>
      {label}: <Text bold>{value}</Text>{focused ? <Text color={tone('accent')}>▏</Text> : null}
    </Text>
  );
}

export function Bar({ fraction, width = 24 }: { fraction: number; width?: number }) {
  const f = Math.max(0, Math.min(1, Number.isFinite(fraction) ? fraction : 0));
  const full = Math.round(f * width);
  return <Text>{'█'.repeat(full)}{'░'.repeat(width - full)} {String(Math.floor(f * 100)).padStart(3)}%</Text>;
}

export function ErrorLine({ message }: { message: string }) {
  return <Text color={tone('bad')}>✗ {message}</Text>;
}

export const truncate = (s: string, n: number) => (s.length <= n ? s : s.slice(0, Math.max(0, n - 1)) + '…');
