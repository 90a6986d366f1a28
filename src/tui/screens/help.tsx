/** The `?` overlay: the keymap table, grouped by where each key works. */
import React from 'react';
import { Box, Text } from 'ink';
import { KEYMAP, type Scope } from '../keymap.ts';
import { tone } from '../theme.ts';

const SCOPE_TITLES: Record<Scope, string> = {
  global: 'everywhere', list: 'lists', edit: 'text fields', home: 'home', source: 'model source', summary: 'model summary', target: 'output type',
  plan: 'plan', run: 'running', cancel: 'cancel prompt', report: 'report', inspector: 'inspector',
};

export function Help() {
  const scopes = [...new Set(KEYMAP.map((b) => b.scope))];
  return (
    <Box flexDirection="column" borderStyle="round" paddingX={1}>
      <Text bold color={tone('accent')}>keys (? or esc closes)</Text>
      {scopes.map((s) => (
        <Box key={s} flexDirection="column">
          <Text bold>{SCOPE_TITLES[s]}</Text>
          {KEYMAP.filter((b) => b.scope === s).map((b) => (
            <Text key={b.action}>  {b.keys.join(' / ').padEnd(18)} {b.description}</Text>
          ))}
        </Box>
      ))}
    </Box>
  );
}
