/**
 * The AWQ/GPTQ plan: the options (method, bits, group size, zeros, act-order, keep-unaligned) and a
 * per-layer table of what the run will do with them — packed, kept in fp16 (embeddings, norms) or
 * blocked (a linear whose shape the packer cannot store). Blocked layers stop the run unless
 * keep-unaligned is on, which keeps them in fp16; the screen says so and will not start until then.
 * The method defaults to the type's calibrated one, as the CLI's `--method`; `m` switches to
 * round-to-nearest. A calibrated run takes the CLI's sample count and length, editable (n, l).
 */
import React, { useEffect, useMemo, useState } from 'react';
import { Box, Text } from 'ink';
import { useKeys } from '../use-keys.ts';
import { ErrorLine, Frame, SelectList, TextField, truncate, useHeight, useWidth } from '../components.tsx';
import { actionFor, isTyped, keyName } from '../keymap.ts';
import { tone } from '../theme.ts';
import { formatBytes } from '../../format-units.ts';
import type { AwqGptqOptions } from '../../pipeline/awq-gptq.ts';
import type { SafetensorsTensor } from '../../../formats/safetensors/header.ts';
import { bestGroup, groupwisePlan, loadGroupwiseTensors, type GroupwiseRow } from '../data/groupwise-plan.ts';
import { DEFAULT_CALIB_SAMPLES, DEFAULT_CALIB_SEQLEN } from '../../pipeline/calib-text.ts';
import { positiveInteger } from '../../options/values.ts';

/** The calibration numbers the screen edits, as `--calib-samples` and `--calib-seqlen`. */
const CALIB_FIELDS = { samples: { label: 'calibration samples', default: DEFAULT_CALIB_SAMPLES }, seqlen: { label: 'tokens per sample', default: DEFAULT_CALIB_SEQLEN } } as const;
type CalibField = keyof typeof CALIB_FIELDS;

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
  const [o, setO] = useState<AwqGptqOptions>({ // algorithm unset: the type's calibrated method, as the CLI
    bits: 4, groupSize: 128, sym: initial.method === 'gptq', descAct: false, keepUnaligned: false, ...initial });
  const calibrated = (o.algorithm ?? o.method) !== 'rtn';
  const [editing, setEditing] = useState<{ field: CalibField; text: string } | null>(null);
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
    const name = keyName(input, key);
    if (editing) {
      const edit = actionFor('edit', name);
      if (edit === 'erase') setEditing((e) => e && { ...e, text: e.text.slice(0, -1) });
      else if (isTyped(input, key, name) && /\d/.test(input)) setEditing((e) => e && { ...e, text: e.text + input });
      else if (edit === 'done') {
        setEditing(null);
        // Empty: back to the CLI default; otherwise the CLI's own parser (a positive integer).
        try {
          const v = editing.text.trim() ? positiveInteger(editing.text) : undefined;
          update((x) => ({ ...x, calibration: { ...x.calibration, [editing.field]: v } }));
        } catch (e) { setNote((e as Error).message); }
      }
      return;
    }
    const action = actionFor(['groupwise', 'list'], name);
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
    else if (action === 'method') update((x) => ({ ...x, algorithm: calibrated ? 'rtn' : x.method }));
    else if ((action === 'samples' || action === 'seqlen') && calibrated) setEditing({ field: action, text: String(o.calibration?.[action] ?? CALIB_FIELDS[action].default) });
    else if (action === 'samples' || action === 'seqlen') setNote('round-to-nearest reads no calibration text: press m for the calibrated method');
    else if (action === 'confirm') {
      if (stop) setNote(`not started: ${nothing ? 'no layer can be packed; press g' : 'press k to keep them in fp16, or g'} for another group size`);
      else if (!plan?.error) onConfirm(o);
    }
  }, { isActive: active });

  const nameW = Math.max(20, Math.min(44, width - 54));
  const tableRows = Math.max(3, height - 20);
  const calibNumber = (f: CalibField) => o.calibration?.[f] ?? CALIB_FIELDS[f].default;
  const mark = (r: GroupwiseRow) => (r.outcome === 'packed' ? 'packed' : r.outcome === 'fp16' ? 'fp16' : o.keepUnaligned && !nothing ? 'fp16 (kept)' : '✗ blocked');
  const cur = rows[Math.min(sel, rows.length - 1)];
  return (
    <Frame title={`plan · ${o.method}`} helpKey={!editing} hints={editing ? `type the ${CALIB_FIELDS[editing.field].label} · enter done (empty: default)` : `b g z a k m${calibrated ? ' n l' : ''} change · ↑↓ scroll · enter start · esc back`}>
      {editing ? <TextField label={CALIB_FIELDS[editing.field].label} value={editing.text} />
        : calibrated ? <Text>method {o.method}, calibrated (m) · {calibNumber('samples')} samples (n) × {calibNumber('seqlen')} tokens (l)</Text>
          : <Text>method rtn, round-to-nearest: no calibration (m)</Text>}
      <Text>bits {o.bits} (b) · group {o.groupSize === -1 ? '-1 (per channel)' : o.groupSize} (g) · {o.sym ? 'symmetric' : 'asymmetric, zero points'} (z)</Text>
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
