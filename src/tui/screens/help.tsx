/**
 * The `?` overlay: the keys of the screen underneath (its scopes, then lists / text fields where it
 * has them, then the keys that work everywhere), straight from the keymap table, in a window sized
 * to the terminal that scrolls with ↑↓ / PgUp / PgDn.
 */
import React, { useState } from 'react';
import { Box, Text } from 'ink';
import { KEYMAP, actionFor, keyName, type Scope } from '../keymap.ts';
import { tone } from '../theme.ts';
import { truncate, useHeight, useWidth } from '../components.tsx';
import { useKeys } from '../use-keys.ts';

export const SCOPE_TITLES: Record<Scope, string> = {
  global: 'everywhere', list: 'lists', edit: 'text fields', home: 'home', source: 'model source', summary: 'model summary', target: 'output type',
  plan: 'plan', groupwise: 'AWQ/GPTQ plan', run: 'running', cancel: 'cancel prompt', report: 'report', inspector: 'inspector',
};

/** The overlay's lines: a title line per scope, then one line per binding. */
export function helpLines(scopes: Scope[], width: number): { text: string; title: boolean }[] {
  const lines: { text: string; title: boolean }[] = [];
  for (const s of [...new Set([...scopes, 'global' as const])]) {
    const bindings = KEYMAP.filter((b) => b.scope === s);
    if (!bindings.length) continue;
    lines.push({ text: SCOPE_TITLES[s], title: true });
    for (const b of bindings) lines.push({ text: truncate(`  ${b.keys.join(' / ').padEnd(16)} ${b.description}`, width - 4), title: false });
  }
  return lines;
}

/** `scopes`: the screen's own (default: every scope, for a full list). */
export function Help({ scopes, screen, active = true }: { scopes?: Scope[]; screen?: string; active?: boolean }) {
  const width = useWidth();
  const height = useHeight();
  const all = [...new Set(KEYMAP.map((b) => b.scope))];
  const lines = helpLines(scopes ?? all, width);
  // Border (2), title (1) and the position line (1).
  const rows = Math.max(4, height - 5);
  const max = Math.max(0, lines.length - rows);
  const [top, setTop] = useState(0);
  useKeys((input, key) => {
    const a = actionFor('list', keyName(input, key));
    if (a === 'up') setTop((t) => Math.max(0, t - 1));
    else if (a === 'down') setTop((t) => Math.min(max, t + 1));
    else if (a === 'pageUp') setTop((t) => Math.max(0, t - rows));
    else if (a === 'pageDown') setTop((t) => Math.min(max, t + rows));
  }, { isActive: active });
  const start = Math.min(top, max);
  const shown = lines.slice(start, start + rows);
  return (
    <Box flexDirection="column" borderStyle="round" paddingX={1}>
      <Text bold color={tone('accent')}>{truncate(`keys${screen ? ` · ${screen}` : ''} (${max ? '↑↓ scroll · ' : ''}? or esc closes)`, width - 4)}</Text>
      {shown.map((l, i) => <Text key={start + i} bold={l.title}>{l.text}</Text>)}
      {max ? <Text color={tone('dim')}>lines {start + 1}–{start + shown.length} of {lines.length}</Text> : null}
    </Box>
  );
}
