/**
 * Report: error per layer as text bars, the worst tensors, anomalies, the output path and size,
 * and the time taken. Keys: open the output in the inspector, run again with another type, quit.
 */
import React from 'react';
import { Box, Text } from 'ink';
import { useKeys } from '../use-keys.ts';
import { Frame, truncate, useWidth } from '../components.tsx';
import { actionFor, keyName } from '../keymap.ts';
import { tone } from '../theme.ts';
import { formatBytes } from '../../format-units.ts';
import { layerBars } from '../../cli/report-text.ts';
import type { JobSummary } from '../../pipeline/events.ts';
import type { ValidationReport } from '../../validate/report.ts';
import { useReportEval } from './report-eval.tsx';

export function Report({ summary, active, onInspect, onAgain, onQuit }: {
  summary: JobSummary; active: boolean; onInspect?: () => void; onAgain: () => void; onQuit: () => void;
}) {
  const width = useWidth();
  const evalView = useReportEval(summary);
  useKeys((input, key) => {
    const action = actionFor('report', keyName(input, key));
    if (action === 'eval') evalView.start();
    else if (action === 'inspect') onInspect?.();
    else if (action === 'again' || action === 'back') onAgain();
    else if (action === 'quit') onQuit();
  }, { isActive: active });
  const report = summary.report as ValidationReport | undefined;
  const bars = report ? layerBars(report, Math.max(10, width - 40)) : [];
  return (
    <Frame title="report" hints={`${onInspect ? 'i inspect output · ' : ''}e eval · r another type · q quit`}>
      <Text><Text color={tone('good')}>✓</Text> wrote <Text bold>{summary.output}</Text> · {formatBytes(summary.outputBytes)} · {summary.tensors} tensors · {summary.seconds.toFixed(1)} s</Text>
      {report ? (
        <Box flexDirection="column" marginTop={1}>
          <Text bold>round-trip error per layer (mean ‖W−Ŵ‖/‖W‖)</Text>
          {bars.map((b) => <Text key={b.label}>{b.label.padEnd(9)} {b.value.toExponential(2)} <Text color={tone('accent')}>{b.bar}</Text></Text>)}
          {evalView.line}
          <Text bold>worst tensors</Text>
          {report.worst.map((w) => <Text key={w.name}>  {truncate(w.name, width - 40).padEnd(Math.min(30, width - 40))} {w.type.padEnd(6)} rel {w.relFrobenius.toExponential(2)}  SNR {w.snrDb.toFixed(1)} dB</Text>)}
          {report.anomalies.length
            ? <><Text bold color={tone('warn')}>anomalies ({report.anomalies.length})</Text>{report.anomalies.map((a, i) => <Text key={i} color={tone('warn')}>  {truncate(`${a.code}: ${a.message}`, width - 4)}</Text>)}</>
            : <Text color={tone('good')}>anomalies: none</Text>}
        </Box>
      ) : <Text color={tone('dim')}>validation was off: no error report</Text>}
    </Frame>
  );
}
