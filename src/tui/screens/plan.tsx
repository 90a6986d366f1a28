/**
 * Plan: the convert dry-run's per-tensor table (fallbacks highlighted, with the reason) and the
 * exact output size. For a Hub model the dry-run first downloads the files, shown as progress.
 * With an importance matrix, the rows quantized with its weights are marked * and the CLI dry
 * run's imatrix line says which matrix it is.
 */
import React, { useEffect, useRef, useState } from 'react';
import { Box, Text } from 'ink';
import { useKeys } from '../use-keys.ts';
import { ErrorLine, Frame, SelectList, truncate, useHeight, useWidth } from '../components.tsx';
import { actionFor, keyName } from '../keymap.ts';
import { tone } from '../theme.ts';
import { formatBytes } from '../../format-units.ts';
import type { ConvertOptions } from '../../pipeline/convert.ts';
import type { ConvertPlan } from '../../pipeline/plan.ts';
import type { ConvertSummary, PipelineEvent, PlannedTensor, QuantizeSummary } from '../../pipeline/events.ts';
import { DownloadView, useDownloads } from './download-view.tsx';
import { imatrixLine } from '../../pipeline/imatrix-text.ts';

/** One row of the dry-run plan, as the quantize/convert summaries carry it. */
export type PlanRow = PlannedTensor;

/** convertModel, or quantizeGguf in its shape (data/quantize-job.ts) for a GGUF source. */
export type ConvertFn = (opts: ConvertOptions) => AsyncGenerator<PipelineEvent, ConvertSummary | QuantizeSummary>;

export function Plan({ request, convert, active, onConfirm, onBack }: {
  request: ConvertOptions; convert: ConvertFn; active: boolean; onConfirm: (plan: ConvertPlan) => void; onBack: () => void;
}) {
  const width = useWidth();
  const height = useHeight();
  const [summary, setSummary] = useState<ConvertSummary | QuantizeSummary | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [sel, setSel] = useState(0);
  const downloads = useDownloads();
  const made = useRef<ConvertPlan | null>(null);
  useEffect(() => {
    const ctl = new AbortController();
    (async () => {
      // The plan made here is the one the run screen executes: the TUI plans once.
      const gen = convert({ ...request, dryRun: true, signal: ctl.signal, onPlan: (p) => { made.current = p; } });
      let step = await gen.next();
      while (!step.done) {
        if (step.value.type === 'download') downloads.onEvent(step.value);
        step = await gen.next();
      }
      if (!ctl.signal.aborted) setSummary(step.value);
    })().catch((err) => { if (!ctl.signal.aborted) setError((err as Error).message); });
    return () => ctl.abort();
  }, [request]);
  const rows: PlanRow[] = summary?.plan ?? [];
  useKeys((input, key) => {
    const action = actionFor(['plan', 'list'], keyName(input, key));
    if (action === 'back') onBack();
    else if (action === 'up') setSel((s) => Math.max(0, s - 1));
    else if (action === 'down') setSel((s) => Math.min(rows.length - 1, s + 1));
    else if (action === 'pageUp') setSel((s) => Math.max(0, s - 10));
    else if (action === 'pageDown') setSel((s) => Math.min(rows.length - 1, s + 10));
    else if (action === 'confirm' && summary && made.current) onConfirm(made.current);
  }, { isActive: active });

  const title = `plan · ${request.fileType}${request.viaF16 ? ' via f16' : ''}${request.pure ? ' pure' : ''}${request.imatrix ? ` · imatrix ${request.imatrix === 'auto' ? 'auto' : 'file'}` : ''}`;
  if (error) return <Frame title={title} hints="esc back"><ErrorLine message={error} /></Frame>;
  if (!summary) {
    return (
      <Frame title={title} hints="esc back">
        <Text>computing the plan for {request.source}…</Text>
        <DownloadView state={downloads.state} />
      </Frame>
    );
  }
  const fallbacks = rows.filter((r) => r.fallback).length;
  // The imatrix line wraps rather than lose its end (the tensor count, the missing entries).
  const imLines = imatrixLine(summary);
  const imRows = imLines.reduce((a, l) => a + Math.ceil(l.length / width), 0);
  // The name column takes what is left, but no more than a long tensor name needs.
  const nameW = Math.max(24, Math.min(48, width - 56));
  return (
    <Frame title={title} hints="↑↓ scroll · enter/y start · esc back">
      <Text color={tone('dim')}>{'  tensor'.padEnd(nameW + 2)} {'shape'.padEnd(14)} {'type'.padEnd(14)} {'bytes'.padStart(11)}</Text>
      <SelectList items={rows} selected={sel} height={Math.max(3, height - 13 - imRows)} render={(r) => (
        <Text color={r.fallback ? tone('warn') : undefined}>
          {truncate(r.name, nameW).padEnd(nameW)} {truncate(r.shape.join('×'), 14).padEnd(14)} {truncate(r.sourceType === r.targetType ? r.targetType : `${r.sourceType}→${r.targetType}`, 14).padEnd(14)} {r.imatrix ? '*' : ' '}{formatBytes(r.bytes).padStart(10)}{r.fallback ? ' fallback' : ''}
        </Text>
      )} />
      {rows[sel]?.fallback ? <Text color={tone('warn')}>{truncate(`${rows[sel]!.name}: ${rows[sel]!.fallback!.reason}`, width - 2)}</Text> : <Text color={tone('dim')}>{truncate(`rule: ${rows[sel]?.rule ?? ''}`, width - 2)}</Text>}
      <Box marginTop={1} flexDirection="column">
        {imLines.map((l) => <Text key={l}>{l}</Text>)}
        <Text>{rows.length} tensors · {fallbacks} fallback{fallbacks === 1 ? '' : 's'} · total <Text bold>{formatBytes(summary.outputBytes)}</Text> → {summary.output}</Text>
        <Text bold>Start the conversion? enter / y</Text>
      </Box>
    </Frame>
  );
}
