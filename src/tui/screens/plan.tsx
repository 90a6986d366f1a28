/**
 * Plan: the convert dry-run's per-tensor table (fallbacks highlighted, with the reason) and the
 * exact output size. For a Hub model the dry-run first downloads the files, shown as progress.
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
import type { ConvertSummary, PipelineEvent, PlannedTensor } from '../../pipeline/events.ts';
import { DownloadView, useDownloads } from './download-view.tsx';

/** One row of the dry-run plan, as the quantize/convert summaries carry it. */
export type PlanRow = PlannedTensor;

export type ConvertFn = (opts: ConvertOptions) => AsyncGenerator<PipelineEvent, ConvertSummary>;

export function Plan({ request, convert, active, onConfirm, onBack }: {
  request: ConvertOptions; convert: ConvertFn; active: boolean; onConfirm: (plan: ConvertPlan) => void; onBack: () => void;
}) {
  const width = useWidth();
  const height = useHeight();
  const [summary, setSummary] = useState<ConvertSummary | null>(null);
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

  const title = `plan · ${request.fileType}${request.viaF16 ? ' via f16' : ''}${request.pure ? ' pure' : ''}`;
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
  // The name column takes what is left, but no more than a long tensor name needs.
  const nameW = Math.max(24, Math.min(48, width - 56));
  return (
    <Frame title={title} hints="↑↓ scroll · enter/y start · esc back">
      <Text color={tone('dim')}>{'  tensor'.padEnd(nameW + 2)} {'shape'.padEnd(14)} {'type'.padEnd(14)} {'bytes'.padStart(11)}</Text>
      <SelectList items={rows} selected={sel} height={Math.max(3, height - 13)} render={(r) => (
        <Text color={r.fallback ? tone('warn') : undefined}>
          {truncate(r.name, nameW).padEnd(nameW)} {truncate(r.shape.join('×'), 14).padEnd(14)} {truncate(r.sourceType === r.targetType ? r.targetType : `${r.sourceType}→${r.targetType}`, 14).padEnd(14)} {formatBytes(r.bytes).padStart(11)}{r.fallback ? ' fallback' : ''}
        </Text>
      )} />
      {rows[sel]?.fallback ? <Text color={tone('warn')}>{truncate(`${rows[sel]!.name}: ${rows[sel]!.fallback!.reason}`, width - 2)}</Text> : <Text color={tone('dim')}>{truncate(`rule: ${rows[sel]?.rule ?? ''}`, width - 2)}</Text>}
      <Box marginTop={1} flexDirection="column">
        <Text>{rows.length} tensors · {fallbacks} fallback{fallbacks === 1 ? '' : 's'} · total <Text bold>{formatBytes(summary.outputBytes)}</Text> → {summary.output}</Text>
        <Text bold>Start the conversion? enter / y</Text>
      </Box>
    </Frame>
  );
}
