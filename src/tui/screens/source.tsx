/**
 * Source: type a local path, search the Hub as you type (debounced), or pick a model already in
 * the HF cache. Hub failures (offline, 401, 404) are shown as a line on the screen.
 * In inspect mode the field takes a GGUF path, URL or hf:ORG/NAME/FILE.gguf.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import React, { useEffect, useMemo, useState } from 'react';
import { Box, Text } from 'ink';
import { useKeys } from '../use-keys.ts';
import { ErrorLine, Frame, SelectList, TextField, truncate, useWidth } from '../components.tsx';
import { actionFor, isTyped, keyName } from '../keymap.ts';
import { tone } from '../theme.ts';
import type { ModelSummary } from '../../hub/search.ts';
import { formatBytes } from '../../format-units.ts';
import type { CachedModel } from '../data/hf-cache.ts';

export type SourcePick = { kind: 'local'; dir: string; label: string } | { kind: 'hub'; id: string; model: ModelSummary } | { kind: 'inspect'; target: string };

export interface SourceDeps {
  search: (query: string, signal: AbortSignal) => Promise<ModelSummary[]>;
  cached: () => Promise<CachedModel[]>;
  /** GGUF files to offer in inspect mode (e.g. those in the current folder). */
  localGgufs?: () => Promise<string[]>;
  /** Debounce before a Hub search, ms. */
  debounceMs?: number;
  /** Relative paths are resolved here (default: the process's cwd). */
  cwd?: string;
}

type Item = { kind: 'path'; path: string } | { kind: 'cached'; m: CachedModel } | { kind: 'hub'; m: ModelSummary };

const looksLikePath = (s: string) => /^(\/|\.|~|[A-Za-z]:\\)/.test(s);
/** A typed path that exists (`samples/stories260K`, no `./`) is a path, not a Hub query. */
const isPath = (s: string, cwd: string | undefined) => looksLikePath(s) || (s.trim() !== '' && existsSync(resolve(cwd ?? process.cwd(), s)));

export function Source({ mode, active, deps, onPick, onBack }: { mode: 'convert' | 'inspect'; active: boolean; deps: SourceDeps; onPick: (p: SourcePick) => void; onBack: () => void }) {
  const width = useWidth();
  const [query, setQuery] = useState('');
  const [sel, setSel] = useState(0);
  const [cached, setCached] = useState<CachedModel[]>([]);
  const [ggufs, setGgufs] = useState<string[]>([]);
  const [hub, setHub] = useState<{ query: string; results: ModelSummary[] } | null>(null);
  const [searching, setSearching] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (mode === 'convert') deps.cached().then(setCached, () => setCached([]));
    else deps.localGgufs?.().then(setGgufs, () => setGgufs([]));
  }, [mode]);

  useEffect(() => {
    setError(null);
    if (mode !== 'convert' || !query.trim() || isPath(query, deps.cwd)) {
      setHub(null);
      setSearching(false);
      return;
    }
    const ctl = new AbortController();
    setSearching(true);
    const timer = setTimeout(() => {
      deps.search(query.trim(), ctl.signal).then(
        (results) => { if (!ctl.signal.aborted) { setHub({ query, results }); setSearching(false); } },
        (err) => { if (!ctl.signal.aborted) { setHub(null); setSearching(false); setError(`Hub search failed: ${(err as Error).message}`); } },
      );
    }, deps.debounceMs ?? 300);
    return () => { clearTimeout(timer); ctl.abort(); };
  }, [query, mode]);

  const items: Item[] = useMemo(() => {
    if (mode === 'inspect') {
      const matching = ggufs.filter((f) => f !== query && f.toLowerCase().includes(query.toLowerCase())).map((path): Item => ({ kind: 'path', path }));
      return query ? [{ kind: 'path', path: query }, ...matching] : matching;
    }
    const q = query.toLowerCase();
    const list: Item[] = [];
    const typedPath = query !== '' && isPath(query, deps.cwd);
    if (typedPath) list.push({ kind: 'path', path: query });
    for (const m of cached) if (!q || typedPath || m.repo.toLowerCase().includes(q)) list.push({ kind: 'cached', m });
    for (const m of hub?.results ?? []) list.push({ kind: 'hub', m });
    return list;
  }, [mode, query, cached, hub, ggufs]);
  const selected = Math.min(sel, Math.max(0, items.length - 1));

  useKeys((input, key) => {
    const name = keyName(input, key);
    // The query field always has the keyboard here: every printable key is text (`?` included).
    if (isTyped(input, key, name)) {
      setQuery((q) => q + input);
      setSel(0);
      return;
    }
    const action = actionFor('source', name);
    if (action === 'back') onBack();
    // Functional updates: fast repeats each move one row, even before a re-render.
    else if (action === 'up') setSel((s) => Math.max(0, Math.min(s, items.length - 1) - 1));
    else if (action === 'down') setSel((s) => Math.max(0, Math.min(items.length - 1, s + 1)));
    else if (action === 'erase') setQuery((q) => q.slice(0, -1));
    else if (action === 'select') {
      const it = items[selected];
      if (mode === 'inspect') { if (it?.kind === 'path') onPick({ kind: 'inspect', target: it.path }); }
      else if (it?.kind === 'path') onPick({ kind: 'local', dir: it.path, label: it.path });
      else if (it?.kind === 'cached') onPick({ kind: 'local', dir: it.m.dir, label: it.m.repo });
      else if (it?.kind === 'hub') onPick({ kind: 'hub', id: it.m.id, model: it.m });
    }
  }, { isActive: active });

  const nameWidth = width - 40;
  const layout = hubColumns(width - 4);
  return (
    <Frame title={mode === 'convert' ? 'choose a model' : 'inspect a GGUF'} hints="type to search or enter a path · ↑↓ pick · enter use · esc back" helpKey={false}>
      <TextField label={mode === 'convert' ? 'Search the Hub, or a local path' : 'GGUF path, URL or hf:ORG/NAME/FILE.gguf'} value={query} />
      {searching ? <Text color={tone('dim')}>searching the Hub for “{query.trim()}”…</Text> : null}
      {error ? <ErrorLine message={error} /> : null}
      {hub && !hub.results.length ? <Text color={tone('dim')}>no text-generation models with safetensors or GGUF match “{hub.query.trim()}”</Text> : null}
      <Box marginTop={1} flexDirection="column">
        {mode === 'convert' && !query && cached.length ? <Text color={tone('dim')}>already in the HF cache:</Text> : null}
        {hub?.results.length ? <Text color={tone('dim')}>{'  '}{'model'.padEnd(layout.name)}{layout.columns.map((c) => (c.key === 'formats' ? ' weights' : c.title.padStart(c.width))).join('')}</Text> : null}
        <SelectList items={items} selected={selected} height={10} render={(it) => {
          if (it.kind === 'path') return <Text>{mode === 'inspect' ? 'inspect' : 'local folder'} {truncate(it.path, nameWidth + 20)}</Text>;
          if (it.kind === 'cached') return <Text>{truncate(it.m.repo, nameWidth).padEnd(nameWidth)} <Text color={tone('good')}>cached</Text></Text>;
          const m = it.m;
          return (
            <Text>
              {truncate(m.id, layout.name).padEnd(layout.name)}
              {layout.columns.map((c) => c.key === 'formats'
                ? <Text key={c.key}>{' '}<Text color={m.hasSafetensors ? tone('good') : tone('dim')}>{m.hasSafetensors ? 'st' : '--'}</Text>{' '}<Text color={m.hasGguf ? tone('good') : tone('dim')}>{m.hasGguf ? 'gguf' : '----'}</Text></Text>
                : <Text key={c.key} color={c.key === 'gated' && m.gated ? tone('warn') : undefined}>{c.cell(m).padStart(c.width)}</Text>)}
            </Text>
          );
        }} />
      </Box>
    </Frame>
  );
}

/**
 * Hub result columns, LM Studio style, in the order they are dropped last to first when the
 * terminal is narrow: the model name keeps at least MIN_NAME columns.
 */
interface HubColumn { key: string; title: string; width: number; cell: (m: ModelSummary) => string }
const HUB_COLUMNS: HubColumn[] = [
  { key: 'size', title: 'size', width: 11, cell: (m) => (m.weightBytes !== undefined ? formatBytes(m.weightBytes) : '?') },
  { key: 'params', title: 'params', width: 8, cell: (m) => (m.parameters !== undefined ? compact(m.parameters) : '?') },
  { key: 'downloads', title: 'downloads', width: 10, cell: (m) => compact(m.downloads) },
  { key: 'gated', title: 'gated', width: 7, cell: (m) => (m.gated ? 'gated' : '') },
  { key: 'formats', title: 'weights', width: 8, cell: () => '' },
  { key: 'likes', title: 'likes', width: 7, cell: (m) => compact(m.likes) },
];
const MIN_NAME = 24;

function hubColumns(width: number): { name: number; columns: HubColumn[] } {
  const columns: HubColumn[] = [];
  let used = 0;
  for (const c of HUB_COLUMNS) {
    if (width - 2 - used - c.width < MIN_NAME) break;
    columns.push(c);
    used += c.width;
  }
  return { name: Math.max(MIN_NAME, width - 2 - used), columns };
}

function compact(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}
