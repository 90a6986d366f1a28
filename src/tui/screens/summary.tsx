/**
 * Model summary: architecture, parameters, dtype, files and total size, tokenizer kind, and
 * whether we support the architecture (and if not, why). Hub models are summarised from the
 * search result; their files are downloaded when the plan is computed.
 */
import React, { useEffect, useState } from 'react';
import { Box, Text } from 'ink';
import { useKeys } from '../use-keys.ts';
import { ErrorLine, Frame, truncate, useWidth } from '../components.tsx';
import { actionFor, keyName } from '../keymap.ts';
import { tone } from '../theme.ts';
import { formatBytes } from '../../cli/headless.ts';
import { loadModelSummary, type ModelSummaryData } from '../data/model-summary.ts';
import type { ModelSummary } from '../../hub/search.ts';

export type SummaryTarget = { kind: 'local'; dir: string; label: string } | { kind: 'hub'; id: string; model: ModelSummary };

export function Summary({ target, active, onNext, onBack }: { target: SummaryTarget; active: boolean; onNext: (s: ModelSummaryData | null) => void; onBack: () => void }) {
  const width = useWidth();
  const [data, setData] = useState<ModelSummaryData | null>(null);
  useEffect(() => {
    if (target.kind === 'local') loadModelSummary(target.dir).then(setData);
  }, [target]);
  const canGo = target.kind === 'hub' || (data?.supported ?? false);
  useKeys((input, key) => {
    const action = actionFor('summary', keyName(input, key));
    if (action === 'back') onBack();
    else if (action === 'select' && canGo) onNext(data);
  }, { isActive: active });

  if (target.kind === 'hub') {
    const m = target.model;
    return (
      <Frame title={`model · hf:${m.id}`} hints="enter choose a type · esc back">
        <Row k="repository" v={`hf:${m.id}`} />
        <Row k="downloads" v={String(m.downloads)} />
        <Row k="likes" v={String(m.likes)} />
        <Row k="weights" v={[m.hasSafetensors && 'safetensors', m.hasGguf && 'GGUF'].filter(Boolean).join(', ')} />
        <Text color={tone('dim')}>Architecture, files and tokenizer are read once the files are downloaded (at the plan step).</Text>
      </Frame>
    );
  }
  if (!data) return <Frame title="model"><Text>reading {target.label}…</Text></Frame>;
  const shown = data.files.slice(0, 8);
  return (
    <Frame title={`model · ${data.name}`} hints={data.supported ? 'enter choose a type · esc back' : 'esc back'}>
      <Row k="folder" v={truncate(data.dir, width - 16)} />
      <Row k="architecture" v={data.architecture ?? '?'} />
      <Row k="parameters" v={data.parameters !== undefined ? data.parameters.toLocaleString('en-US') : '?'} />
      <Row k="dtype" v={data.dtype ?? '?'} />
      <Row k="tokenizer" v={data.tokenizer ?? '?'} />
      <Row k="files" v={`${data.files.length} files, ${formatBytes(data.totalBytes)}`} />
      <Box flexDirection="column" marginLeft={16}>
        {shown.map((f) => <Text key={f.name} color={tone('dim')}>{truncate(f.name, width - 32).padEnd(Math.min(40, width - 32))} {formatBytes(f.bytes).padStart(11)}</Text>)}
        {data.files.length > shown.length ? <Text color={tone('dim')}>… {data.files.length - shown.length} more</Text> : null}
      </Box>
      {data.supported
        ? <Text color={tone('good')}>✓ supported: this model can be converted</Text>
        : <ErrorLine message={`not supported: ${data.reason}`} />}
    </Frame>
  );
}

function Row({ k, v }: { k: string; v: string }) {
  return <Text><Text color={tone('dim')}>{k.padEnd(15)}</Text> {v}</Text>;
}
