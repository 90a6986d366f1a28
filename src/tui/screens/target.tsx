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
import { canComputeImatrix, imatrixOption, imatrixProblem, imatrixText, nextImatrix, NO_IMATRIX, type ImatrixChoice } from '../data/imatrix-choice.ts';

export interface TargetChoice {
  fileType: string;
  output: string;
  viaF16: boolean;
  pure: boolean;
  force: boolean;
  /** `--imatrix`: `auto` or a file path; absent for none. */
  imatrix?: string;
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

export function Target({ name, source, parameters, groupwise, active, defaultOutput, outputExists = () => false, checkImatrix = imatrixProblem, remembered, onRemember, onChoose, onBack }: {
  name: string; /** The model folder or `hf:` id: a local folder gets the planner's exact sizes. */ source?: string; parameters: number; groupwise?: boolean; active: boolean; defaultOutput: (fileType: string) => string;
  outputExists?: (output: string) => boolean;
  /** Why an imatrix choice cannot be used (a missing file), null when it can; default checks the path as given. */
  checkImatrix?: (c: ImatrixChoice) => Promise<string | null>;
  remembered?: TargetMemory; onRemember?: (m: TargetMemory) => void;
  onChoose: (c: TargetChoice) => void; onBack: () => void;
}) {
  const width = useWidth();
  const height = useHeight();
  const [imatrix, setImatrix] = useState<ImatrixChoice>(remembered?.imatrix ?? NO_IMATRIX);
  const [problem, setProblem] = useState<string | null>(null);
  const autoAllowed = canComputeImatrix(source);
  const hasIm = imatrix.kind !== 'none';
  const options = targetOptions(parameters, { groupwise, imatrix: hasIm });
  const [sel, setSel] = useState(() => Math.max(0, options.findIndex((o) => o.name === remembered?.fileType)));
  const [viaF16, setVia] = useState(remembered?.viaF16 ?? false);
  const [pure, setPure] = useState(remembered?.pure ?? false);
  const [force, setForce] = useState(remembered?.force ?? false);
  const [output, setOutput] = useState<string | null>(remembered?.output ?? null);
  const [editing, setEditing] = useState<'output' | 'imatrix' | null>(null);
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
  const chooseImatrix = (c: ImatrixChoice) => {
    const list = targetOptions(parameters, { groupwise, imatrix: c.kind !== 'none' });
    setImatrix(c);
    setSel(Math.max(0, list.findIndex((o) => o.name === cur.name)));
    if (c.kind === 'file') setEditing('imatrix');
  };
  const choose = async () => {
    const why = await checkImatrix(imatrix);
    setProblem(why);
    if (!why) onChoose({ fileType: cur.name, output: out, viaF16, pure, force, ...(hasIm ? { imatrix: imatrixOption(imatrix) } : {}) });
  };

  useKeys((input, key) => {
    const name = keyName(input, key);
    if (editing) {
      const edit = actionFor('edit', name);
      // Functional updates: fast typing and erasing each count, even before a re-render.
      const change = (f: (v: string) => string) => (editing === 'output'
        ? setOutput((o) => f(o ?? out))
        : setImatrix((c) => (c.kind === 'file' ? { kind: 'file', path: f(c.path) } : c)));
      if (edit === 'done') setEditing(null);
      else if (edit === 'erase') change((v) => v.slice(0, -1));
      else if (isTyped(input, key, name)) change((v) => v + input);
      setProblem(null);
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
    else if (action === 'output') { setOutput((o) => o ?? out); setEditing('output'); }
    else if (action === 'imatrix') chooseImatrix(nextImatrix(imatrix, autoAllowed));
    else if (action === 'select' && cur.available && (force || !exists)) void choose();
  }, { isActive: active });

  const tradeWidth = width - 38;
  return (
    <Frame title={`output type · ${name}`} helpKey={!editing} hints={editing ? `type the ${editing === 'output' ? 'output' : 'imatrix file'} path · enter done` : '↑↓ move · enter plan · o output · v via f16 · p pure · f force · i imatrix · esc back'}>
      <Text color={tone('dim')}>{'  type'.padEnd(12)}{'bpw'.padStart(6)}{(local ? 'size' : 'est. size').padStart(12)}   trade-off</Text>
      <SelectList items={options} selected={sel} height={Math.max(3, height - 14)} render={(o) => (
        <Text color={o.available ? undefined : tone('dim')}>
          {o.name.padEnd(10)}{o.bpw.toFixed(2).padStart(6)}{sizeText(o).padStart(12)}   {truncate(o.available ? o.tradeoff : `unavailable: ${o.reason}`, tradeWidth)}
        </Text>
      )} />
      <Box flexDirection="column" marginTop={1}>
        <TextField label="output" value={out} focused={editing === 'output'} />
        <Text>--via f16: {viaF16 ? 'on' : 'off'} (v)   --pure: {pure ? 'on' : 'off'} (p)   --force: {force ? 'on' : 'off'} (f)</Text>
        {editing === 'imatrix' && imatrix.kind === 'file'
          ? <TextField label="imatrix file" value={imatrix.path} />
          : <Text>imatrix: {truncate(imatrixText(imatrix, autoAllowed), width - 14)} (i)</Text>}
        {problem ? <Text color={tone('bad')}>{truncate(problem, width - 2)}</Text> : null}
        {exists ? <Text color={tone('warn')}>{out} exists: {force ? 'it will be replaced when the new one is complete' : 'press f to overwrite it, or o to choose another path'}</Text> : null}
        {!cur.available ? <Text color={tone('warn')}>{cur.name} is unavailable: {cur.reason}</Text> : null}
      </Box>
    </Frame>
  );
}
