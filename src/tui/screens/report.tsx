/**
 * Report: error per layer as text bars, the worst tensors, anomalies, the output path and size,
 * and the time taken. A calibrated AWQ/GPTQ run opens on its per-layer loss chart (scrollable;
 * tab switches to the round-trip error). Keys: eval against the source, open the output in the
 * inspector, run again with another type, quit.
 */
import React, { useState } from 'react';
import { Box, Text } from 'ink';
import { useKeys } from '../use-keys.ts';
import { Frame, truncate, useHeight, useWidth } from '../components.tsx';
import { actionFor, keyName } from '../keymap.ts';
import { tone } from '../theme.ts';
import { formatBytes } from '../../format-units.ts';
import { layerBars } from '../../cli/report-text.ts';
import type { JobSummary } from '../../pipeline/events.ts';
import type { ValidationReport } from '../../validate/report.ts';
import { calibChart } from '../../pipeline/calib-report-text.ts';
import { safeMessage, untrusted } from '../../../formats/untrusted-text.ts';
import { useReportEval } from './report-eval.tsx';
import type { AfterEvalOptions } from '../../pipeline/eval-after.ts';
import { CalibChartView, maxScroll } from './calib-chart.tsx';
import { imatrixLine } from '../../pipeline/imatrix-text.ts';

/** Rows of the calibration view that are not the chart's body: frame, output line, view line, chart head, margins. */
const CALIB_CHROME_ROWS = 11;

export function Report({ summary, source, evalOptions, active, onInspect, onAgain, onQuit }: {
  summary: JobSummary;
  /** What the job read (AWQ/GPTQ summaries do not name it): the reference for `e`. */
  source?: string;
  evalOptions?: Omit<AfterEvalOptions, 'signal'>;
  active: boolean; onInspect?: () => void; onAgain: () => void; onQuit: () => void;
}) {
  const width = useWidth();
  const height = useHeight();
  const evalView = useReportEval(summary, evalOptions, source);
  const calibration = summary.kind === 'awq' || summary.kind === 'gptq' ? summary.calibration : undefined;
  const [view, setView] = useState<'calib' | 'error'>(calibration ? 'calib' : 'error');
  const [offset, setOffset] = useState(0);
  // The eval line wraps: it takes as many rows as its text needs.
  const evalRows = evalView.text ? Math.ceil(evalView.text.length / width) : 0;
  const chartRows = Math.max(3, height - CALIB_CHROME_ROWS - evalRows);
  const bodyLength = calibration && view === 'calib' ? calibChart(calibration, width).body.length : 0;
  const scrollBy = (d: number) => setOffset((o) => Math.max(0, Math.min(maxScroll(bodyLength, chartRows), o + d)));
  useKeys((input, key) => {
    const action = actionFor('report', keyName(input, key));
    if (action === 'eval') evalView.start();
    else if (action === 'inspect') onInspect?.();
    else if (action === 'again' || action === 'back') onAgain();
    else if (action === 'quit') onQuit();
    else if (action === 'view' && calibration) setView((v) => (v === 'calib' ? 'error' : 'calib'));
    else if (action === 'up') scrollBy(-1);
    else if (action === 'down') scrollBy(1);
    else if (action === 'pageUp') scrollBy(-(chartRows - 2));
    else if (action === 'pageDown') scrollBy(chartRows - 2);
  }, { isActive: active });
  const report: ValidationReport | undefined = summary.kind === 'quantize' ? undefined : summary.report;
  const bars = report ? layerBars(report, Math.max(10, width - 40)) : [];
  const typeW = Math.max(6, ...(report?.worst ?? []).map((w) => w.type.length));
  const nameW = Math.max(12, Math.min(width - 40 - typeW, Math.max(0, ...(report?.worst ?? []).map((w) => untrusted(w.name).length))));
  const canEval = evalView.text !== null;
  const hints = `${onInspect ? 'i inspect output · ' : ''}${canEval ? 'e eval · ' : ''}${calibration ? 'tab loss/error · ' : ''}r another type · q quit`;
  const header = (
    <Text><Text color={tone('good')}>✓</Text> wrote <Text bold>{summary.output}</Text> · {formatBytes(summary.outputBytes)} · {summary.tensors} tensors · {summary.seconds.toFixed(1)} s</Text>
  );
  if (calibration && view === 'calib') {
    return (
      <Frame title="report" hints={hints}>
        {header}
        <Text color={tone('dim')}>calibration loss per layer · tab: round-trip error{report ? ` (${report.anomalies.length} anomal${report.anomalies.length === 1 ? 'y' : 'ies'})` : ''}</Text>
        {evalView.line}
        <Box flexDirection="column" marginTop={1}>
          <CalibChartView report={calibration} width={width} rows={chartRows} offset={offset} />
        </Box>
      </Frame>
    );
  }
  return (
    <Frame title="report" hints={hints}>
      {header}
      {'fallbacks' in summary ? (
        <Text color={summary.fallbacks ? tone('warn') : undefined}>{summary.fallbacks} of {summary.tensors} tensors fell back to another type{summary.fallbacks ? ' (the plan says why for each)' : ''}</Text>
      ) : null}
      {'imatrix' in summary ? imatrixLine(summary).map((l) => <Text key={l}>{l}</Text>) : null}
      {calibration ? <Text color={tone('dim')}>round-trip error · tab: calibration loss ({calibration.anomalies.length} anomal{calibration.anomalies.length === 1 ? 'y' : 'ies'})</Text> : null}
      {report ? (
        <Box flexDirection="column" marginTop={1}>
          <Text bold>round-trip error per layer (mean ‖W−Ŵ‖/‖W‖)</Text>
          {bars.map((b) => <Text key={b.label}>{b.label.padEnd(9)} {b.value.toExponential(2)} <Text color={tone('accent')}>{b.bar}</Text></Text>)}
          {evalView.line}
          <Text bold>worst tensors</Text>
          {report.worst.map((w) => <Text key={w.name}>  {truncate(untrusted(w.name), nameW).padEnd(nameW)} {w.type.padEnd(typeW)} rel {w.relFrobenius.toExponential(2)}  SNR {w.snrDb.toFixed(1)} dB</Text>)}
          {report.anomalies.length
            ? <><Text bold color={tone('warn')}>anomalies ({report.anomalies.length})</Text>{report.anomalies.map((a, i) => <Text key={i} color={tone('warn')}>  {truncate(`${a.code}: ${safeMessage(a.message).replace(/\s+/g, ' ')}`, width - 4)}</Text>)}</>
            : <Text color={tone('good')}>anomalies: none</Text>}
        </Box>
      ) : <>{evalView.line}<Text color={tone('dim')}>{summary.kind === 'quantize' ? 'quantize measures each tensor\'s error on the run screen; no per-layer report' : 'validation was off: no error report'}</Text></>}
    </Frame>
  );
}
