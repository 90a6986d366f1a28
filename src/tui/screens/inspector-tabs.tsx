/**
 * The inspector's three tabs: metadata (arrays summarised, one expandable), tensors (list plus the
 * selected tensor's details, value histogram and first block), and the summary by type.
 */
import React, { useEffect, useState } from 'react';
import { Box, Text } from 'ink';
import { ErrorLine, SelectList, truncate, useWidth } from '../components.tsx';
import { tone } from '../theme.ts';
import { formatBytes } from '../../format-units.ts';
import type { InspectKv, InspectTensor } from '../../inspect/report.ts';
import type { BlockView } from '../../inspect/block-view.ts';
import type { Histogram, InspectorSource } from '../data/inspector-data.ts';

function arraySummary(kv: InspectKv, width: number): string {
  const head = (kv.values ?? []).slice(0, 8).map((v) => JSON.stringify(v)).join(', ');
  return truncate(`[${kv.elemType} × ${kv.count}] ${head}${(kv.count ?? 0) > 8 ? ', …' : ''}`, width);
}

/** `height`: rows the tab may use (the inspector sizes it from the terminal). */
export function MetadataTab({ kvs, selected, expanded, height = 17 }: { kvs: InspectKv[]; selected: number; expanded: string | null; height?: number }) {
  const width = useWidth();
  const keyW = Math.min(40, Math.floor(width / 2.5));
  const open = kvs.find((k) => k.key === expanded);
  return (
    <Box flexDirection="column">
      <SelectList items={kvs} selected={selected} height={Math.max(3, height - 2 - (open ? 4 : 0))} render={(kv) => (
        <Text>{truncate(kv.key, keyW).padEnd(keyW)} {kv.type === 'ARRAY' ? arraySummary(kv, width - keyW - 5) : truncate(JSON.stringify(kv.value), width - keyW - 5)}</Text>
      )} />
      {open ? (
        <Box flexDirection="column" marginTop={1}>
          <Text bold>{open.key} ({open.count} × {open.elemType})</Text>
          <Text>{truncate((open.values ?? []).map((v) => JSON.stringify(v)).join(', '), width * 2 - 2)}</Text>
        </Box>
      ) : null}
    </Box>
  );
}

export function TensorsTab({ tensors, selected, src, height = 17 }: { tensors: InspectTensor[]; selected: number; src: InspectorSource; height?: number }) {
  const width = useWidth();
  // Filter and sort lines (2), the list's more-markers (2), the detail (6 + block fields).
  const fields = height >= 30 ? 6 : 3;
  const listRows = Math.max(3, height - 10 - fields);
  const t = tensors[selected];
  const nameW = Math.max(24, width - 50);
  return (
    <Box flexDirection="column">
      <SelectList items={tensors} selected={selected} height={listRows} render={(x) => (
        <Text>{truncate(x.name, nameW).padEnd(nameW)} {x.type.padEnd(6)} {truncate(x.shape.join('×'), 14).padEnd(14)} {formatBytes(x.bytes).padStart(11)}</Text>
      )} />
      {t ? <TensorDetail t={t} src={src} fields={fields} /> : <Text color={tone('dim')}>no tensor matches</Text>}
    </Box>
  );
}

const SPARK = ' ▁▂▃▄▅▆▇█';

function TensorDetail({ t, src, fields }: { t: InspectTensor; src: InspectorSource; fields: number }) {
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
      <Text bold>{truncate(t.name, width - 1)}</Text>
      <Text>{truncate(`shape [${t.shape.join(', ')}] · ${t.type} · offset ${t.offset} (file ${t.fileOffset}) · ${t.bytes.toLocaleString('en-US')} bytes · ${t.bitsPerWeight.toFixed(2)} bpw`, width - 1)}</Text>
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
            {Object.entries(block.fields).slice(0, fields).map(([k, v]) => <Text key={k}>  {k.padEnd(8)} {truncate(JSON.stringify(v), width - 12)}</Text>)}
          </Box>
        ) : null}
    </Box>
  );
}

export function TypesTab({ report }: { report: InspectorSource['report'] }) {
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
