/**
 * The AWQ/GPTQ plan: the options (method, bits, group size, zeros, act-order, keep-unaligned) and a
 * per-layer table of what the run will do with them — packed, kept in fp16 (embeddings, norms) or
 * blocked (a linear whose shape the packer cannot store). Blocked layers stop the run unless
 * keep-unaligned is on, which keeps them in fp16; the screen says so and will not start until then.
 */
import React, { useEffect, useMemo, useState } from 'react';
import { Box, Text } from 'ink';
import { useKeys } from '../use-keys.ts';
import { ErrorLine, Frame, SelectList, truncate, useHeight, useWidth } from '../components.tsx';
import { actionFor, keyName } from '../keymap.ts';
import { tone } from '../theme.ts';
import { formatBytes } from '../../format-units.ts';
import type { AwqGptqOptions } from '../../pipeline/awq-gptq.ts';
import type { SafetensorsTensor } from '../../../formats/safetensors/header.ts';
import { bestGroup, groupwisePlan, loadGroupwiseTensors, type GroupwiseRow } from '../data/groupwise-plan.ts';

const BITS = { awq: [4], gptq: [4, 8, 3, 2] } as const;
const GROUPS = [128, 64, 32, -1];
const next = <T,>(list: readonly T[], v: T) => list[(list.indexOf(v) + 1) % list.length]!;
const onOff = (b: boolean) => (b ? 'on ' : 'off');

export function ConfirmGroupwise({ options: initial, active, onConfirm, onBack, onChange }: {
  options: AwqGptqOptions; active: boolean; onConfirm: (o: AwqGptqOptions) => void; onBack: () => void;
  /** Hears every option change, so going back and forth keeps them. */
  onChange?: (o: AwqGptqOptions) => void;
}) {
  const width = useWidth();
  const height = useHeight();
  const [o, setO] = useState<AwqGptqOptions>({ // the screen offers round-to-nearest only (the `m` note), so it asks for it
    bits: 4, groupSize: 128, sym: initial.method === 'gptq', descAct: false, keepUnaligned: false, algorithm: 'rtn', ...initial });
  const [tensors, setTensors] = useState<SafetensorsTensor[] | null | undefined>(undefined);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [sel, setSel] = useState(0);
  const [note, setNote] = useState<string | null>(null);
  useEffect(() => {
    loadGroupwiseTensors(initial.source).then(setTensors, (e) => setLoadError((e as Error).message));
  }, [initial.source]);
  const plan = useMemo(() => {
    if (!tensors) return null;
    try { return { ok: groupwisePlan(tensors, o) }; } catch (e) { return { error: (e as Error).message }; }
  }, [tensors, o]);
  const rows = plan?.ok?.rows ?? [];
  const nothing = plan?.ok?.packed === 0;
  const blocked = plan?.ok && plan.ok.blocked > 0 && (nothing || !o.keepUnaligned);
  const best = useMemo(() => (tensors && blocked ? bestGroup(tensors, o, GROUPS) : null), [tensors, o, blocked]);
  const hint = best && best.groupSize !== o.groupSize && best.packed > (plan?.ok?.packed ?? 0)
    ? ` (${best.groupSize} packs ${best.packed === best.linears ? 'every layer' : `${best.packed} of ${best.linears}`})` : '';
  const stop = !blocked ? null
    : `${nothing ? 'no layer can' : `${plan!.ok!.blocked} layer(s) cannot`} be packed with group ${o.groupSize}: ${nothing ? '' : 'k keeps them in fp16, '}g changes the group${hint}`;

  const update = (f: (x: AwqGptqOptions) => AwqGptqOptions) => setO((x) => { const y = f(x); onChange?.(y); return y; });
  useKeys((input, key) => {
    const action = actionFor(['groupwise', 'list'], keyName(input, key));
    setNote(null);
    if (action === 'back') onBack();
    else if (action === 'up') setSel((s) => Math.max(0, s - 1));
    else if (action === 'down') setSel((s) => Math.min(Math.max(0, rows.length - 1), s + 1));
    else if (action === 'pageUp') setSel((s) => Math.max(0, s - 10));
    else if (action === 'pageDown') setSel((s) => Math.min(Math.max(0, rows.length - 1), s + 10));
    else if (action === 'bits') {
      if (o.method === 'awq') setNote('AWQ GEMM checkpoints are 4-bit only (AutoAWQ and vLLM accept nothing else)');
      else update((x) => ({ ...x, bits: next(BITS.gptq, x.bits ?? 4) }));
    } else if (action === 'group') update((x) => ({ ...x, groupSize: next(GROUPS, x.groupSize ?? 128) }));
    else if (action === 'sym') update((x) => ({ ...x, sym: !x.sym }));
    else if (action === 'actOrder') {
      if (o.method === 'awq') setNote('act-order is GPTQ only: AWQ GEMM stores no g_idx');
      else update((x) => ({ ...x, descAct: !x.descAct }));
    } else if (action === 'keepUnaligned') update((x) => ({ ...x, keepUnaligned: !x.keepUnaligned }));
    else if (action === 'method') setNote('rtn (round-to-nearest) is the only method built so far; calibrated AWQ/GPTQ solvers are not');
    else if (action === 'confirm') {
      if (stop) setNote(`not started: ${nothing ? 'no layer can be packed; press g' : 'press k to keep them in fp16, or g'} for another group size`);
      else if (!plan?.error) onConfirm(o);
    }
  }, { isActive: active });

  const nameW = Math.max(20, Math.min(44, width - 54));
  const tableRows = Math.max(3, height - 19);
  const mark = (r: GroupwiseRow) => (r.outcome === 'packed' ? 'packed' : r.outcome === 'fp16' ? 'fp16' : o.keepUnaligned && !nothing ? 'fp16 (kept)' : '✗ blocked');
  const cur = rows[Math.min(sel, rows.length - 1)];
  return (
    <Frame title={`plan · ${o.method}`} hints="b g z a k m change · ↑↓ scroll · enter start · esc back">
      <Text>method rtn (m) · bits {o.bits} (b) · group {o.groupSize === -1 ? '-1 (per channel)' : o.groupSize} (g) · {o.sym ? 'symmetric' : 'asymmetric, zero points'} (z)</Text>
      <Text>act-order {onOff(!!o.descAct)} (a) · keep-unaligned {onOff(!!o.keepUnaligned)} (k)</Text>
      <Text>output {truncate(`${o.output}/`, width - 8)}</Text>
      {loadError ? <ErrorLine message={loadError} /> : null}
      {tensors === null ? <Text color={tone('dim')}>A Hub source is planned after its download: layers that cannot be packed stop the run unless keep-unaligned is on.</Text> : null}
      {plan?.error ? <ErrorLine message={plan.error} /> : null}
      {plan?.ok ? (
        <Box flexDirection="column" marginTop={1}>
          <Text color={tone('dim')}>{'  tensor'.padEnd(nameW + 2)} {'shape'.padEnd(11)} {'type'.padEnd(14)} {'bytes'.padStart(10)}  outcome</Text>
          <SelectList items={rows} selected={Math.min(sel, rows.length - 1)} height={tableRows} render={(r) => (
            <Text color={r.outcome === 'blocked' ? tone(o.keepUnaligned ? 'warn' : 'bad') : r.outcome === 'fp16' ? tone('dim') : undefined}>
              {truncate(r.name, nameW).padEnd(nameW)} {r.shape.join('×').padEnd(11)} {r.type.padEnd(14)} {formatBytes(r.bytes).padStart(10)}  {mark(r)}
            </Text>
          )} />
          {cur?.reason ? <Text color={tone('warn')}>{truncate(`${cur.name}: ${cur.reason}`, width - 2)}</Text> : <Text> </Text>}
          <Text>{plan.ok.packed} packed · {plan.ok.kept} kept in fp16 · {plan.ok.blocked} cannot be packed{plan.ok.blocked ? (o.keepUnaligned ? ' (kept in fp16)' : '') : ''} · total <Text bold>{formatBytes(plan.ok.bytes)}</Text></Text>
        </Box>
      ) : null}
      {note ? <Text color={tone('warn')}>{truncate(note, width - 2)}</Text> : null}
      {stop
        ? <Text bold color={tone('bad')}>{stop}</Text>
        : <Text bold>Start the conversion? enter / y</Text>}
    </Frame>
  );
}
