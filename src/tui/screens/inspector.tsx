/**
 * Inspector for any GGUF (local, URL or hf:): tabs for metadata (long arrays summarised,
 * expandable), tensors (filter by name or type, sort by size) with the selected tensor's shape,
 * type, offset, bytes, bpw, a histogram of its dequantized values and its first block's fields,
 * and a summary by type. All data comes from the inspect report and the inspector source.
 */
import React, { useEffect, useMemo, useState } from 'react';
import { Box, Text } from 'ink';
import { useKeys } from '../use-keys.ts';
import { ErrorLine, Frame, SelectList, TextField, truncate, useWidth } from '../components.tsx';
import { actionFor, isTyped, keyName } from '../keymap.ts';
import { tone } from '../theme.ts';
import { formatBytes } from '../../cli/headless.ts';
import type { InspectKv, InspectTensor } from '../../inspect/report.ts';
import type { BlockView } from '../../inspect/block-view.ts';
import type { Histogram, InspectorSource } from '../data/inspector-data.ts';

const TABS = ['metadata', 'tensors', 'types'] as const;
type Tab = (typeof TABS)[number];

export function Inspector({ target, open, active, onBack, onQuit }: {
  target: string; open: (target: string) => Promise<InspectorSource>; active: boolean; onBack: () => void; onQuit: () => void;
}) {
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

  const title = `inspect · ${target}`;
  if (error) return <Frame title={title} hints="esc back"><ErrorLine message={error} /></Frame>;
  if (!src) return <Frame title={title}><Text>reading {target}…</Text></Frame>;
  const r = src.report;
  return (
    <Frame title={title} hints="tab switch tab · ↑↓ move · / filter · s sort · enter expand · esc back">
      <Text>
        {TABS.map((t) => <Text key={t} bold={t === tab} color={t === tab ? tone('accent') : tone('dim')}>{t === tab ? `[${t}]` : ` ${t} `} </Text>)}
        <Text color={tone('dim')}>  GGUF v{r.format.version} · {formatBytes(r.fileSize)} · {r.tensors.length} tensors · {r.parameterCount.toLocaleString('en-US')} params · {r.fileType.name ?? '?'}</Text>
      </Text>
      <Box marginTop={1} flexDirection="column">
        {tab === 'metadata' ? <MetadataTab kvs={r.metadata} selected={cur} expanded={expanded} /> : null}
        {tab === 'tensors' ? (
          <>
            <TextField label="filter (name or type)" value={filter} focused={editingFilter} />
            <Text color={tone('dim')}>sorted by {bySize ? 'size' : 'file order'} · {tensors.length} of {r.tensors.length}</Text>
            <TensorsTab tensors={tensors} selected={cur} src={src} />
          </>
        ) : null}
        {tab === 'types' ? <TypesTab report={r} /> : null}
      </Box>
    </Frame>
  );
}

function arraySummary(kv: InspectKv, width: number): string {
  const head = (kv.values ?? []).slice(0, 8).map((v) => JSON.stringify(v)).join(', ');
  return truncate(`[${kv.elemType} × ${kv.count}] ${head}${(kv.count ?? 0) > 8 ? ', …' : ''}`, width);
}

function MetadataTab({ kvs, selected, expanded }: { kvs: InspectKv[]; selected: number; expanded: string | null }) {
  const width = useWidth();
  const keyW = Math.min(40, Math.floor(width / 2.5));
  const open = kvs.find((k) => k.key === expanded);
  return (
    <Box flexDirection="column">
      <SelectList items={kvs} selected={selected} height={14} render={(kv) => (
        <Text>{truncate(kv.key, keyW).padEnd(keyW)} {kv.type === 'ARRAY' ? arraySummary(kv, width - keyW - 5) : truncate(JSON.stringify(kv.value), width - keyW - 5)}</Text>
      )} />
      {open ? (
        <Box flexDirection="column" marginTop={1}>
          <Text bold>{open.key} ({open.count} × {open.elemType})</Text>
          <Text>{truncate((open.values ?? []).map((v) => JSON.stringify(v)).join(', '), Math.max(200, width * 8))}</Text>
        </Box>
      ) : null}
    </Box>
  );
}

function TensorsTab({ tensors, selected, src }: { tensors: InspectTensor[]; selected: number; src: InspectorSource }) {
  const width = useWidth();
  const t = tensors[selected];
  const nameW = Math.max(24, width - 50);
  return (
    <Box flexDirection="column">
      <SelectList items={tensors} selected={selected} height={8} render={(x) => (
        <Text>{truncate(x.name, nameW).padEnd(nameW)} {x.type.padEnd(6)} {truncate(x.shape.join('×'), 14).padEnd(14)} {formatBytes(x.bytes).padStart(11)}</Text>
      )} />
      {t ? <TensorDetail t={t} src={src} /> : <Text color={tone('dim')}>no tensor matches</Text>}
    </Box>
  );
}

const SPARK = ' ▁▂▃▄▅▆▇█';

function TensorDetail({ t, src }: { t: InspectTensor; src: InspectorSource }) {
  const width = useWidth();
  const [hist, setHist] = useState<Histogram | null | 'loading'>('loading');
  const [block, setBlock] = useState<BlockView | string | null>(null);
  useEffect(() => {
    let live = true;
    setHist('loading');
    setBlock(null);
    const timer = setTimeout(() => {
      src.histogram(t.name, Math.min(64, width - 20)).then((h) => live && setHist(h), () => live && setHist(null));
      src.firstBlock(t.name).then((b) => live && setBlock(b), (err) => live && setBlock((err as Error).message));
    }, 80);
    return () => { live = false; clearTimeout(timer); };
  }, [t.name]);
  const maxBin = hist && hist !== 'loading' ? Math.max(...hist.bins, 1) : 1;
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text bold>{t.name}</Text>
      <Text>shape [{t.shape.join(', ')}] · {t.type} · offset {t.offset} (file {t.fileOffset}) · {t.bytes.toLocaleString('en-US')} bytes · {t.bitsPerWeight.toFixed(2)} bpw</Text>
      {hist === 'loading' ? <Text color={tone('dim')}>histogram: reading…</Text>
        : hist === null ? <Text color={tone('dim')}>histogram: no dequantizer for {t.type}</Text>
        : (
          <Text>
            values  {hist.min.toPrecision(3)} <Text color={tone('accent')}>{hist.bins.map((b) => SPARK[Math.ceil((b / maxBin) * 8)]).join('')}</Text> {hist.max.toPrecision(3)}
            <Text color={tone('dim')}>  ({hist.sampled === hist.total ? 'all' : `first ${hist.sampled} of ${hist.total}`} values)</Text>
          </Text>
        )}
      {typeof block === 'string' ? <ErrorLine message={block} />
        : block ? (
          <Box flexDirection="column">
            <Text>block 0 of {block.blockCount} at file offset {block.fileOffset} ({block.bytes} bytes):</Text>
            {Object.entries(block.fields).slice(0, 6).map(([k, v]) => <Text key={k}>  {k.padEnd(8)} {truncate(JSON.stringify(v), width - 12)}</Text>)}
          </Box>
        ) : null}
    </Box>
  );
}

function TypesTab({ report }: { report: InspectorSource['report'] }) {
  return (
    <Box flexDirection="column">
      <Text color={tone('dim')}>{'type'.padEnd(8)} {'tensors'.padStart(8)} {'params'.padStart(14)} {'bytes'.padStart(12)} {'share'.padStart(7)}</Text>
      {report.summary.map((s) => (
        <Text key={s.type}>{s.type.padEnd(8)} {String(s.count).padStart(8)} {s.params.toLocaleString('en-US').padStart(14)} {formatBytes(s.bytes).padStart(12)} {(s.share * 100).toFixed(1).padStart(6)}%</Text>
      ))}
      <Text>total tensor bytes {formatBytes(report.tensorBytes)} · implied file type {report.fileType.name ?? '?'}</Text>
    </Box>
  );
}
