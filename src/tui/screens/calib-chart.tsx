/**
 * The report screen's calibration view: the per-layer loss chart of an AWQ/GPTQ run (the lines of
 * src/pipeline/calib-report-text.ts, coloured by their tone), its head fixed and its body — one
 * row per layer, the AWQ scale groups, the anomalies — in a window of `rows` lines that scrolls.
 */
import React from 'react';
import { Box, Text } from 'ink';
import { tone } from '../theme.ts';
import { calibChart, type ChartLine } from '../../pipeline/calib-report-text.ts';
import type { CalibrationReport } from '../../pipeline/calib-report.ts';

/** The largest scroll offset for a body of `length` lines in `rows` rows (the ↑/↓ lines count). */
export function maxScroll(length: number, rows: number): number {
  return length <= rows ? 0 : length - Math.max(1, rows - 2);
}

export function CalibChartView({ report, width, rows, offset }: { report: CalibrationReport; width: number; rows: number; offset: number }) {
  const chart = calibChart(report, width);
  const fits = chart.body.length <= rows;
  // When the body scrolls, two of the rows say how much is above and below.
  const window = fits ? chart.body.length : Math.max(1, rows - 2);
  const start = fits ? 0 : Math.min(Math.max(0, offset), chart.body.length - window);
  const shown = chart.body.slice(start, start + window);
  const below = chart.body.length - start - shown.length;
  return (
    <Box flexDirection="column">
      {chart.head.map((l, i) => <ChartText key={`h${i}`} line={l} />)}
      {fits ? null : <Text color={tone('dim')}>{start > 0 ? `  ↑ ${start} more (↑/↓ pgup/pgdn scroll)` : '  ↑/↓ pgup/pgdn scroll'}</Text>}
      {shown.map((l, i) => <ChartText key={start + i} line={l} />)}
      {fits ? null : <Text color={tone('dim')}>{below > 0 ? `  ↓ ${below} more` : '  (end)'}</Text>}
    </Box>
  );
}

function ChartText({ line }: { line: ChartLine }) {
  return <Text wrap="truncate" bold={line.bold} color={line.tone ? tone(line.tone) : undefined}>{line.text}</Text>;
}
