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
  const report: ValidationReport | undefined = summary.kind === 'quantize' ? undefined : summary.report;
  const bars = report ? layerBars(report, Math.max(10, width - 40)) : [];
  const typeW = Math.max(6, ...(report?.worst ?? []).map((w) => w.type.length));
  const nameW = Math.max(12, Math.min(width - 40 - typeW, Math.max(0, ...(report?.worst ?? []).map((w) => w.name.length))));
  return (
    <Frame title="report" hints={`${onInspect ? 'i inspect output · ' : ''}e eval · r another type · q quit`}>
      <Text><Text color={tone('good')}>✓</Text> wrote <Text bold>{summary.output}</Text> · {formatBytes(summary.outputBytes)} · {summary.tensors} tensors · {summary.seconds.toFixed(1)} s</Text>
      {'fallbacks' in summary ? (
        <Text color={summary.fallbacks ? tone('warn') : undefined}>{summary.fallbacks} of {summary.tensors} tensors fell back to another type{summary.fallbacks ? ' (the plan says why for each)' : ''}</Text>
      ) : null}
      {report ? (
        <Box flexDirection="column" marginTop={1}>
          <Text bold>round-trip error per layer (mean ‖W−Ŵ‖/‖W‖)</Text>
          {bars.map((b) => <Text key={b.label}>{b.label.padEnd(9)} {b.value.toExponential(2)} <Text color={tone('accent')}>{b.bar}</Text></Text>)}
          {evalView.line}
          <Text bold>worst tensors</Text>
          {report.worst.map((w) => <Text key={w.name}>  {truncate(w.name, nameW).padEnd(nameW)} {w.type.padEnd(typeW)} rel {w.relFrobenius.toExponential(2)}  SNR {w.snrDb.toFixed(1)} dB</Text>)}
          {report.anomalies.length
            ? <><Text bold color={tone('warn')}>anomalies ({report.anomalies.length})</Text>{report.anomalies.map((a, i) => <Text key={i} color={tone('warn')}>  {truncate(`${a.code}: ${a.message}`, width - 4)}</Text>)}</>
            : <Text color={tone('good')}>anomalies: none</Text>}
        </Box>
      ) : <Text color={tone('dim')}>validation was off: no error report</Text>}
    </Frame>
  );
}
