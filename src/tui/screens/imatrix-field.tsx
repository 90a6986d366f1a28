/**
 * The target screen's importance-matrix option as one piece: the choice (none / auto / file, see
 * data/imatrix-choice.ts), its two text fields (the file path; the chunk count of `auto`, digits
 * only, empty for the CLI default), the check made before planning, and the lines it shows.
 */
import React, { useState } from 'react';
import { Text, type Key } from 'ink';
import { TextField, truncate } from '../components.tsx';
import { actionFor, isTyped } from '../keymap.ts';
import { tone } from '../theme.ts';
import { positiveInteger } from '../../options/values.ts';
import { canComputeImatrix, imatrixProblem, imatrixText, nextImatrix, NO_IMATRIX, type ImatrixChoice } from '../data/imatrix-choice.ts';

export function useImatrixField({ source, remembered, check = imatrixProblem }: {
  source?: string; remembered?: ImatrixChoice; check?: (c: ImatrixChoice) => Promise<string | null>;
}) {
  const [choice, setChoice] = useState<ImatrixChoice>(remembered ?? NO_IMATRIX);
  const [editing, setEditing] = useState<'file' | 'chunks' | null>(null);
  const [draft, setDraft] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const autoAllowed = canComputeImatrix(source);

  /** `i`: the next choice; a file opens its path field. Returns the new choice. */
  const cycle = (): ImatrixChoice => {
    const c = nextImatrix(choice, autoAllowed);
    setChoice(c);
    setProblem(null);
    if (c.kind === 'file') setEditing('file');
    return c;
  };
  /** `c`: edit the chunk count of an auto computation. */
  const editChunks = () => {
    if (choice.kind !== 'auto') return;
    setDraft(choice.chunks ? String(choice.chunks) : '');
    setEditing('chunks');
  };
  /** A key while a field is edited (the caller checks `editing` first). */
  const onEditKey = (input: string, key: Key, name: string) => {
    const edit = actionFor('edit', name);
    setProblem(null);
    if (editing === 'file') {
      // Functional updates: fast typing and erasing each count, even before a re-render.
      const change = (f: (p: string) => string) => setChoice((c) => (c.kind === 'file' ? { kind: 'file', path: f(c.path) } : c));
      if (edit === 'done') setEditing(null);
      else if (edit === 'erase') change((p) => p.slice(0, -1));
      else if (isTyped(input, key, name)) change((p) => p + input);
      return;
    }
    if (edit === 'erase') setDraft((d) => d.slice(0, -1));
    else if (isTyped(input, key, name) && /^\d+$/.test(input)) setDraft((d) => d + input);
    else if (edit === 'done') {
      setEditing(null);
      try {
        const chunks = draft.trim() ? positiveInteger(draft) : undefined;
        setChoice((c) => (c.kind === 'auto' ? { kind: 'auto', chunks } : c));
      } catch (err) { setProblem(`chunks: ${(err as Error).message}`); }
    }
  };
  /** Whether the choice can be planned; if not, the field shows why. */
  const validate = async (): Promise<boolean> => {
    const why = await check(choice);
    setProblem(why);
    return why === null;
  };
  const view = (width: number) => (
    <>
      {editing === 'file' && choice.kind === 'file' ? <TextField label="imatrix file" value={choice.path} />
        : editing === 'chunks' ? <TextField label="imatrix chunks (empty: default)" value={draft} />
          : <Text>imatrix (i): {truncate(imatrixText(choice, autoAllowed), width - 15)}</Text>}
      {problem ? <Text color={tone('bad')}>{truncate(problem, width - 2)}</Text> : null}
    </>
  );
  return { choice, editing, cycle, editChunks, onEditKey, validate, view };
}
