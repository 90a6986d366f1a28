/**
 * Model summary: architecture, parameters, dtype, files and total size, tokenizer kind, and
 * whether we support the architecture (and if not, why). Hub models are read remotely (file
 * list, config.json, safetensors headers); their weights are downloaded at the plan step.
 */
import React, { useEffect, useState } from 'react';
import { Box, Text } from 'ink';
import { useKeys } from '../use-keys.ts';
import { ErrorLine, Frame, truncate, useWidth } from '../components.tsx';
import { actionFor, keyName } from '../keymap.ts';
import { tone } from '../theme.ts';
import { formatBytes } from '../../format-units.ts';
import { loadModelSummary, type ModelSummaryData } from '../data/model-summary.ts';
import type { ModelSummary } from '../../hub/search.ts';

export type SummaryTarget = { kind: 'local'; dir: string; label: string } | { kind: 'hub'; id: string; model: ModelSummary };

export function Summary({ target, active, loadHub, onNext, onInspect, onBack }: {
  target: SummaryTarget; active: boolean; loadHub?: (repo: string) => Promise<ModelSummaryData>;
  onNext: (s: ModelSummaryData | null) => void; onInspect?: (gguf: string) => void; onBack: () => void;
}) {
  const width = useWidth();
  const [data, setData] = useState<ModelSummaryData | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const load = target.kind === 'local' ? loadModelSummary(target.dir) : loadHub ? loadHub(target.id) : null;
    load?.then(setData, (err) => setError((err as Error).message));
  }, [target]);
  // A Hub model whose summary could not be read may still be pulled at the plan step.
  const gguf = data?.files.find((f) => f.name.toLowerCase().endsWith('.gguf'))?.name;
  const canGo = data ? data.supported : target.kind === 'hub' && (error !== null || !loadHub);
  useKeys((input, key) => {
    const action = actionFor('summary', keyName(input, key));
    if (action === 'back') onBack();
    else if (action === 'select' && canGo) onNext(data);
    else if (action === 'inspect' && gguf && onInspect) onInspect(target.kind === 'hub' ? `hf:${target.id}/${gguf}` : `${target.dir}/${gguf}`);
  }, { isActive: active });

  const hubLine = target.kind === 'hub'
    ? <Row k="on the Hub" v={`↓ ${target.model.downloads} downloads · ♥ ${target.model.likes} likes · ${[target.model.hasSafetensors && 'safetensors', target.model.hasGguf && 'GGUF'].filter(Boolean).join(', ')}`} />
    : null;
  const label = target.kind === 'local' ? target.label : `hf:${target.id}`;
  const hints = `${canGo ? 'enter choose a type · ' : ''}${gguf && onInspect ? `i inspect ${gguf} · ` : ''}esc back`;
  if (error) {
    return (
      <Frame title={`model · ${label}`} hints={hints}>
        {hubLine}
        <ErrorLine message={error} />
        {canGo ? <Text color={tone('dim')}>The files are downloaded at the plan step; you can go on.</Text> : null}
      </Frame>
    );
  }
  if (!data) {
    return (
      <Frame title={`model · ${label}`} hints={hints}>
        {hubLine}
        <Text>reading {label}…</Text>
      </Frame>
    );
  }
  const shown = data.files.slice(0, 8);
  return (
    <Frame title={`model · ${target.kind === 'hub' ? label : data.name}`} hints={hints}>
      {hubLine}
      <Row k={target.kind === 'hub' ? 'revision' : 'folder'} v={truncate(data.dir, width - 16)} />
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
