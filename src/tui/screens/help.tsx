/**
 * The `?` overlay: the keymap table, grouped by where each key works; two columns when the
 * terminal is wide enough, so it fits a usual 40-row terminal.
 */
import React from 'react';
import { Box, Text } from 'ink';
import { KEYMAP, type Scope } from '../keymap.ts';
import { tone } from '../theme.ts';
import { useWidth } from '../components.tsx';

const SCOPE_TITLES: Record<Scope, string> = {
  global: 'everywhere', list: 'lists', edit: 'text fields', home: 'home', source: 'model source', summary: 'model summary', target: 'output type',
  plan: 'plan', groupwise: 'AWQ/GPTQ plan', run: 'running', cancel: 'cancel prompt', report: 'report', inspector: 'inspector',
};

export function Help() {
  const width = useWidth();
  const columns = width >= 140 ? 2 : 1;
  const colWidth = Math.floor((width - 4) / columns);
  const scopes = [...new Set(KEYMAP.map((b) => b.scope))];
  return (
    <Box flexDirection="column" borderStyle="round" paddingX={1}>
      <Text bold color={tone('accent')}>keys (? or esc closes)</Text>
      <Box flexDirection="row" flexWrap="wrap">
        {scopes.map((s) => (
          <Box key={s} flexDirection="column" width={colWidth}>
            <Text bold>{SCOPE_TITLES[s]}</Text>
            {KEYMAP.filter((b) => b.scope === s).map((b) => (
              <Text key={b.action}>  {b.keys.join(' / ').padEnd(16)} {b.description}</Text>
            ))}
          </Box>
        ))}
      </Box>
    </Box>
  );
}
