/**
 * Target: the output types, most used first, each with bits per weight, its size (the planner's
 * exact output size for a local folder, a ~estimate for an `hf:` source) and a
 * one-line trade-off; types we cannot write yet are shown greyed with the reason. Options: the
 * output path (`o`), `--via f16` (`v`), `--pure` (`p`), `--force` (`f`, offered when the output
 * exists) and `--imatrix` (`i`: none, auto or a file; with one, the imatrix-only types are available).
 */
import React, { useEffect, useState } from 'react';
import { Box, Text } from 'ink';
import { useKeys } from '../use-keys.ts';
import { Frame, SelectList, TextField, truncate, useHeight, useWidth } from '../components.tsx';
import { actionFor, isTyped, keyName } from '../keymap.ts';
import { tone } from '../theme.ts';
import { formatBytes } from '../../format-units.ts';
import { targetOptions } from '../data/targets.ts';
import { exactOutputBytes, hasExactSize } from '../data/exact-sizes.ts';
import { imatrixOption, type ImatrixChoice } from '../data/imatrix-choice.ts';
import { useImatrixField } from './imatrix-field.tsx';

export interface TargetChoice {
  fileType: string;
  output: string;
  viaF16: boolean;
  pure: boolean;
  force: boolean;
  /** `--imatrix`: `auto` or a file path; absent for none. */
  imatrix?: string;
  /** `--chunks` of an `auto` imatrix (absent: the CLI default). */
  imatrixChunks?: number;
}

/** What the target screen remembers when the user leaves it and comes back. */
export interface TargetMemory {
  fileType: string;
  viaF16: boolean;
  pure: boolean;
  force: boolean;
  /** An output path the user typed (null: the type's default name). */
  output: string | null;
  imatrix?: ImatrixChoice;
}

export function Target({ name, source, parameters, groupwise, active, defaultOutput, outputExists = () => false, checkImatrix, remembered, onRemember, onChoose, onBack }: {
  name: string; /** The model folder or `hf:` id: a local folder gets the planner's exact sizes. */ source?: string; parameters: number; groupwise?: boolean; active: boolean; defaultOutput: (fileType: string) => string;
  outputExists?: (output: string) => boolean;
  /** Why an imatrix choice cannot be used (a missing file), null when it can; default checks the path as given. */
  checkImatrix?: (c: ImatrixChoice) => Promise<string | null>;
  remembered?: TargetMemory; onRemember?: (m: TargetMemory) => void;
  onChoose: (c: TargetChoice) => void; onBack: () => void;
}) {
  const width = useWidth();
  const height = useHeight();
  const im = useImatrixField({ source, remembered: remembered?.imatrix, check: checkImatrix });
  const imatrix = im.choice;
  const hasIm = imatrix.kind !== 'none';
  const options = targetOptions(parameters, { groupwise, imatrix: hasIm });
  const [sel, setSel] = useState(() => Math.max(0, options.findIndex((o) => o.name === remembered?.fileType)));
  const [viaF16, setVia] = useState(remembered?.viaF16 ?? false);
  const [pure, setPure] = useState(remembered?.pure ?? false);
  const [force, setForce] = useState(remembered?.force ?? false);
  const [output, setOutput] = useState<string | null>(remembered?.output ?? null);
  const [editing, setEditing] = useState(false);
  const cur = options[sel]!;
  const out = output ?? defaultOutput(cur.name);
  const exists = outputExists(out);
  // Exact sizes, one plan per type in the background (list order); "…" until each is known.
  // With an imatrix the type policy differs (llama-quantize's imatrix rules): keyed by both.
  const [exact, setExact] = useState<Record<string, number | null>>({});
  const sizeKey = (t: string) => `${hasIm ? 'imatrix:' : ''}${t}`;
  useEffect(() => {
    const abort = new AbortController();
    void (async () => {
      for (const o of options) {
        if (abort.signal.aborted) return;
        if (!hasExactSize(source, o.name) || sizeKey(o.name) in exact) continue;
        const bytes = await exactOutputBytes(source!, o.name, abort.signal, hasIm);
        if (!abort.signal.aborted) setExact((e) => ({ ...e, [sizeKey(o.name)]: bytes }));
      }
    })();
    return () => abort.abort();
  }, [source, hasIm]);
  const sizeText = (o: { name: string; estimatedBytes: number }) => {
    const k = sizeKey(o.name);
    if (hasExactSize(source, o.name)) return k in exact ? (exact[k] == null ? '?' : formatBytes(exact[k]!)) : '…';
    return parameters ? `~${formatBytes(o.estimatedBytes)}` : '?';
  };
  const local = !!source && hasExactSize(source, 'f32');
  useEffect(() => { onRemember?.({ fileType: cur.name, viaF16, pure, force, output, imatrix }); }, [cur.name, viaF16, pure, force, output, imatrix]);
  /** A new imatrix choice re-orders the list (types become available): keep the cursor on its type. */
  const cycleImatrix = () => {
    const list = targetOptions(parameters, { groupwise, imatrix: im.cycle().kind !== 'none' });
    setSel(Math.max(0, list.findIndex((o) => o.name === cur.name)));
  };
  const choose = async () => {
    if (!(await im.validate())) return;
    const chunks = imatrix.kind === 'auto' && imatrix.chunks ? { imatrixChunks: imatrix.chunks } : {};
    onChoose({ fileType: cur.name, output: out, viaF16, pure, force, ...(hasIm ? { imatrix: imatrixOption(imatrix), ...chunks } : {}) });
  };

  useKeys((input, key) => {
    const name = keyName(input, key);
    if (im.editing) return im.onEditKey(input, key, name);
    if (editing) {
      const edit = actionFor('edit', name);
      if (edit === 'done') setEditing(false);
      // Functional updates: fast typing and erasing each count, even before a re-render.
      else if (edit === 'erase') setOutput((o) => (o ?? out).slice(0, -1));
      else if (isTyped(input, key, name)) setOutput((o) => (o ?? out) + input);
      return;
    }
    const action = actionFor(['target', 'list'], name);
    if (action === 'back') onBack();
    else if (action === 'up') setSel((s) => Math.max(0, s - 1));
    else if (action === 'down') setSel((s) => Math.min(options.length - 1, s + 1));
    else if (action === 'pageUp') setSel((s) => Math.max(0, s - 10));
    else if (action === 'pageDown') setSel((s) => Math.min(options.length - 1, s + 10));
    else if (action === 'via') setVia((v) => !v);
    else if (action === 'pure') setPure((v) => !v);
    else if (action === 'force') setForce((v) => !v);
    else if (action === 'output') { setOutput((o) => o ?? out); setEditing(true); }
    else if (action === 'imatrix') cycleImatrix();
    else if (action === 'chunks') im.editChunks();
    else if (action === 'select' && cur.available && (force || !exists)) void choose();
  }, { isActive: active });

  const tradeWidth = width - 38;
  return (
    <Frame title={`output type · ${name}`} helpKey={!editing && !im.editing} hints={im.editing ? `type the imatrix ${im.editing === 'file' ? 'file path' : 'chunk count'} · enter done` : editing ? 'type the output path · enter done' : '↑↓ move · enter plan · o output · v p f i options · esc back'}>
      <Text color={tone('dim')}>{'  type'.padEnd(12)}{'bpw'.padStart(6)}{(local ? 'size' : 'est. size').padStart(12)}   trade-off</Text>
      <SelectList items={options} selected={sel} height={Math.max(3, height - 14)} render={(o) => (
        <Text color={o.available ? undefined : tone('dim')}>
          {o.name.padEnd(10)}{o.bpw.toFixed(2).padStart(6)}{sizeText(o).padStart(12)}   {truncate(o.available ? o.tradeoff : `unavailable: ${o.reason}`, tradeWidth)}
        </Text>
      )} />
      <Box flexDirection="column" marginTop={1}>
        <TextField label="output" value={out} focused={editing} />
        <Text>--via f16: {viaF16 ? 'on' : 'off'} (v)   --pure: {pure ? 'on' : 'off'} (p)   --force: {force ? 'on' : 'off'} (f)</Text>
        {im.view(width)}
        {exists ? <Text color={tone('warn')}>{out} exists: {force ? 'it will be replaced when the new one is complete' : 'press f to overwrite it, or o to choose another path'}</Text> : null}
        {!cur.available ? <Text color={tone('warn')}>{cur.name} is unavailable: {cur.reason}</Text> : null}
      </Box>
    </Frame>
  );
}
