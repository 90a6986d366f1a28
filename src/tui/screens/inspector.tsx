/**
 * Inspector for any GGUF (local, URL or hf:): tabs for metadata (long arrays summarised,
 * expandable), tensors (filter by name or type, sort by size) with the selected tensor's shape,
 * type, offset, bytes, bpw, a histogram of its dequantized values and its first block's fields,
 * and a summary by type. All data comes from the inspect report and the inspector source.
 */
import React, { useEffect, useMemo, useState } from 'react';
import { Box, Text } from 'ink';
import { MetadataTab, TensorsTab, TypesTab } from './inspector-tabs.tsx';
import { useKeys } from '../use-keys.ts';
import { ErrorLine, Frame, TextField, truncate, useHeight, useWidth } from '../components.tsx';
import { actionFor, isTyped, keyName } from '../keymap.ts';
import { tone } from '../theme.ts';
import { formatBytes } from '../../format-units.ts';
import type { InspectorSource } from '../data/inspector-data.ts';

const TABS = ['metadata', 'tensors', 'types'] as const;
type Tab = (typeof TABS)[number];

export function Inspector({ target, open, active, onBack, onQuit }: {
  target: string; open: (target: string) => Promise<InspectorSource>; active: boolean; onBack: () => void; onQuit: () => void;
}) {
  const width = useWidth();
  const height = useHeight();
  // Rows left for a tab: title and tab lines, margins, hints.
  const body = height - 8;
  const [src, setSrc] = useState<InspectorSource | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tab, setTab] = useState<Tab>('metadata');
  const [sel, setSel] = useState<Record<Tab, number>>({ metadata: 0, tensors: 0, types: 0 });
  const [expanded, setExpanded] = useState<string | null>(null);
  const [filter, setFilter] = useState('');
  const [editingFilter, setEditingFilter] = useState(false);
  const [bySize, setBySize] = useState(false);

  useEffect(() => {
    let s: InspectorSource | null = null;
    open(target).then((x) => { s = x; setSrc(x); }, (err) => setError((err as Error).message));
    return () => { void s?.close(); };
  }, [target]);

  const tensors = useMemo(() => {
    if (!src) return [];
    const f = filter.toLowerCase();
    const list = src.report.tensors.filter((t) => !f || t.name.toLowerCase().includes(f) || t.type.toLowerCase() === f);
    return bySize ? [...list].sort((a, b) => b.bytes - a.bytes) : list;
  }, [src, filter, bySize]);
  const count = !src ? 0 : tab === 'metadata' ? src.report.metadata.length : tab === 'tensors' ? tensors.length : src.report.summary.length;
  const cur = Math.min(sel[tab], Math.max(0, count - 1));
  const move = (d: number) => setSel((s) => ({ ...s, [tab]: Math.max(0, Math.min(count - 1, cur + d)) }));

  useKeys((input, key) => {
    const name = keyName(input, key);
    if (editingFilter) {
      const edit = actionFor('edit', name);
      if (edit === 'done') setEditingFilter(false);
      else if (edit === 'erase') setFilter((f) => f.slice(0, -1));
      else if (isTyped(input, key, name)) { setFilter((f) => f + input); setSel((s) => ({ ...s, tensors: 0 })); }
      return;
    }
    const action = actionFor(['inspector', 'list'], name);
    if (action === 'back') onBack();
    else if (action === 'quit') onQuit();
    else if (action === 'nextTab') setTab(TABS[(TABS.indexOf(tab) + 1) % TABS.length]!);
    else if (action === 'prevTab') setTab(TABS[(TABS.indexOf(tab) + TABS.length - 1) % TABS.length]!);
    else if (action === 'up') move(-1);
    else if (action === 'down') move(1);
    else if (action === 'pageUp') move(-10);
    else if (action === 'pageDown') move(10);
    else if (action === 'filter' && tab === 'tensors') setEditingFilter(true);
    else if (action === 'sort' && tab === 'tensors') setBySize((b) => !b);
    else if ((action === 'expand' || action === 'select') && tab === 'metadata' && src) {
      const kv = src.report.metadata[cur];
      if (kv?.type === 'ARRAY') setExpanded((e) => (e === kv.key ? null : kv.key));
    }
  }, { isActive: active });

  const title = `inspect · ${truncate(target, width - 22)}`;
  if (error) return <Frame title={title} hints="esc back"><ErrorLine message={error} /></Frame>;
  if (!src) return <Frame title={title}><Text>reading {target}…</Text></Frame>;
  const r = src.report;
  return (
    <Frame title={title} hints="tab switch tab · ↑↓ move · / filter · s sort · enter expand · esc back">
      <Text>
        {TABS.map((t) => <Text key={t} bold={t === tab} color={t === tab ? tone('accent') : tone('dim')}>{t === tab ? `[${t}]` : ` ${t} `} </Text>)}
        <Text color={tone('dim')}>  {truncate(`GGUF v${r.format.version} · ${formatBytes(r.fileSize)} · ${r.tensors.length} tensors · ${r.parameterCount.toLocaleString('en-US')} params · ${r.fileType.name ?? '?'}`, width - 36)}</Text>
      </Text>
      <Box marginTop={1} flexDirection="column">
        {tab === 'metadata' ? <MetadataTab kvs={r.metadata} selected={cur} expanded={expanded} height={body} /> : null}
        {tab === 'tensors' ? (
          <>
            <TextField label="filter (name or type)" value={filter} focused={editingFilter} />
            <Text color={tone('dim')}>sorted by {bySize ? 'size' : 'file order'} · {tensors.length} of {r.tensors.length}</Text>
            <TensorsTab tensors={tensors} selected={cur} src={src} height={body - 2} />
          </>
        ) : null}
        {tab === 'types' ? <TypesTab report={r} /> : null}
      </Box>
    </Frame>
  );
}
