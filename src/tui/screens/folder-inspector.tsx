/**
 * The inspector for an AWQ/GPTQ checkpoint folder: the same report as `gguf-forge inspect DIR`
 * (quantization_config, packed layers, kept tensors, the first group's zeros and scales), in a
 * scrollable view sized to the terminal.
 */
import React, { useEffect, useState } from 'react';
import { Box, Text } from 'ink';
import { useKeys } from '../use-keys.ts';
import { ErrorLine, Frame, truncate, useHeight, useWidth } from '../components.tsx';
import { actionFor, keyName } from '../keymap.ts';
import { tone } from '../theme.ts';
import { inspectQuantizedFolder } from '../../../formats/awq-gptq/inspect.ts';
import { renderQuantizedFolderReport } from '../../pipeline/awq-gptq/inspect-text.ts';

export async function folderReportLines(dir: string): Promise<string[]> {
  return renderQuantizedFolderReport(await inspectQuantizedFolder(dir)).trimEnd().split('\n');
}

export function FolderInspector({ dir, active, onBack, onQuit, load = folderReportLines }: {
  dir: string; active: boolean; onBack: () => void; onQuit: () => void; load?: (dir: string) => Promise<string[]>;
}) {
  const width = useWidth();
  const height = useHeight();
  const [lines, setLines] = useState<string[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [top, setTop] = useState(0);
  useEffect(() => { load(dir).then(setLines, (e) => setError((e as Error).message)); }, [dir]);
  const rows = Math.max(5, height - 7);
  const max = Math.max(0, (lines?.length ?? 0) - rows);
  useKeys((input, key) => {
    const action = actionFor(['inspector', 'list'], keyName(input, key));
    if (action === 'back') onBack();
    else if (action === 'quit') onQuit();
    else if (action === 'up') setTop((t) => Math.max(0, t - 1));
    else if (action === 'down') setTop((t) => Math.min(max, t + 1));
    else if (action === 'pageUp') setTop((t) => Math.max(0, t - rows));
    else if (action === 'pageDown') setTop((t) => Math.min(max, t + rows));
  }, { isActive: active });
  const title = `inspect · ${truncate(dir, width - 22)}`;
  if (error) return <Frame title={title} hints="esc back"><ErrorLine message={error} /></Frame>;
  if (!lines) return <Frame title={title}><Text>reading {dir}…</Text></Frame>;
  const shown = lines.slice(top, top + rows);
  return (
    <Frame title={title} hints="↑↓ pgup/pgdn scroll · esc back · q quit">
      <Box flexDirection="column">
        {shown.map((l, i) => <Text key={top + i}>{truncate(l, width - 1)}</Text>)}
      </Box>
      <Text color={tone('dim')}>lines {top + 1}–{top + shown.length} of {lines.length}</Text>
    </Frame>
  );
}
