/**
 * Every key binding of the TUI, in one table: screens ask `actionFor(scope, key)` and the help
 * overlay lists this table, so what `?` shows is exactly what the keys do.
 */
import type { Key } from 'ink';

export type Scope = 'global' | 'list' | 'edit' | 'home' | 'source' | 'summary' | 'target' | 'plan' | 'groupwise' | 'run' | 'cancel' | 'report' | 'inspector';

export interface Binding {
  scope: Scope;
  action: string;
  /** Canonical key names, see keyName(). */
  keys: string[];
  description: string;
}

export const KEYMAP: readonly Binding[] = [
  { scope: 'global', action: 'help', keys: ['?'], description: 'show or hide this help (in a text field, ? is typed)' },
  { scope: 'global', action: 'back', keys: ['escape'], description: 'back to the previous screen' },
  { scope: 'global', action: 'quit', keys: ['ctrl+c'], description: 'quit (asks first while a conversion runs)' },
  { scope: 'list', action: 'up', keys: ['up', 'k'], description: 'move up' },
  { scope: 'list', action: 'down', keys: ['down', 'j'], description: 'move down' },
  { scope: 'list', action: 'pageUp', keys: ['pageup'], description: 'page up' },
  { scope: 'list', action: 'pageDown', keys: ['pagedown'], description: 'page down' },
  { scope: 'list', action: 'select', keys: ['enter'], description: 'choose the highlighted item' },
  { scope: 'edit', action: 'done', keys: ['enter', 'escape'], description: 'finish editing a text field (output path, filter)' },
  { scope: 'edit', action: 'erase', keys: ['backspace'], description: 'delete the last character' },
  { scope: 'home', action: 'convert', keys: ['c'], description: 'convert a model' },
  { scope: 'home', action: 'inspect', keys: ['i'], description: 'inspect a GGUF file' },
  { scope: 'home', action: 'sample', keys: ['s'], description: 'open the bundled sample (stories260K, no network)' },
  { scope: 'home', action: 'quit', keys: ['q'], description: 'quit' },
  { scope: 'source', action: 'up', keys: ['up'], description: 'previous result' },
  { scope: 'source', action: 'down', keys: ['down'], description: 'next result' },
  { scope: 'source', action: 'select', keys: ['enter'], description: 'use the typed path, or the highlighted model' },
  { scope: 'source', action: 'erase', keys: ['backspace'], description: 'delete a character' },
  { scope: 'summary', action: 'select', keys: ['enter'], description: 'choose an output type' },
  { scope: 'summary', action: 'inspect', keys: ['i'], description: 'inspect the model\'s first GGUF file, if it has one' },
  { scope: 'target', action: 'output', keys: ['o'], description: 'edit the output path' },
  { scope: 'target', action: 'via', keys: ['v'], description: 'toggle --via f16 (round through fp16 first)' },
  { scope: 'target', action: 'pure', keys: ['p'], description: 'toggle --pure (no per-tensor mixture rules)' },
  { scope: 'target', action: 'force', keys: ['f'], description: 'toggle --force (overwrite an existing output)' },
  { scope: 'target', action: 'imatrix', keys: ['i'], description: 'importance matrix: none → auto (computed in the run) → a file (GGUF, .dat)' },
  { scope: 'target', action: 'chunks', keys: ['c'], description: 'imatrix auto: edit the chunks of calibration text (--chunks)' },
  { scope: 'plan', action: 'confirm', keys: ['enter', 'y'], description: 'start the conversion' },
  { scope: 'groupwise', action: 'bits', keys: ['b'], description: 'AWQ/GPTQ: bits per weight (GPTQ 2, 3, 4, 8; AWQ 4 only)' },
  { scope: 'groupwise', action: 'group', keys: ['g'], description: 'AWQ/GPTQ: group size (128, 64, 32, -1 = per channel)' },
  { scope: 'groupwise', action: 'sym', keys: ['z'], description: 'AWQ/GPTQ: symmetric or asymmetric (zero points)' },
  { scope: 'groupwise', action: 'actOrder', keys: ['a'], description: 'GPTQ: act-order (desc_act, stores g_idx)' },
  { scope: 'groupwise', action: 'keepUnaligned', keys: ['k'], description: 'AWQ/GPTQ: keep layers that cannot be packed in fp16' },
  { scope: 'groupwise', action: 'method', keys: ['m'], description: 'AWQ/GPTQ: calibrated (the default) or rtn (round-to-nearest)' },
  { scope: 'groupwise', action: 'samples', keys: ['n'], description: 'calibrated AWQ/GPTQ: edit the sample count (--calib-samples)' },
  { scope: 'groupwise', action: 'seqlen', keys: ['l'], description: 'calibrated AWQ/GPTQ: edit tokens per sample (--calib-seqlen)' },
  { scope: 'groupwise', action: 'confirm', keys: ['enter', 'y'], description: 'start the conversion' },
  { scope: 'run', action: 'cancel', keys: ['escape', 'ctrl+c'], description: 'cancel (asks first; nothing partial is left)' },
  { scope: 'cancel', action: 'yes', keys: ['y'], description: 'yes, cancel the conversion' },
  { scope: 'cancel', action: 'no', keys: ['n', 'escape'], description: 'no, keep going' },
  { scope: 'report', action: 'inspect', keys: ['i'], description: 'open the output in the inspector' },
  { scope: 'report', action: 'again', keys: ['r'], description: 'run again with another type' },
  { scope: 'report', action: 'eval', keys: ['e'], description: 'evaluate the output against its source (PPL, KL divergence)' },
  { scope: 'report', action: 'quit', keys: ['q'], description: 'quit' },
  { scope: 'report', action: 'view', keys: ['tab'], description: 'AWQ/GPTQ: switch between the calibration loss chart and the round-trip error' },
  { scope: 'report', action: 'up', keys: ['up', 'k'], description: 'calibration chart: scroll up' },
  { scope: 'report', action: 'down', keys: ['down', 'j'], description: 'calibration chart: scroll down' },
  { scope: 'report', action: 'pageUp', keys: ['pageup'], description: 'calibration chart: page up' },
  { scope: 'report', action: 'pageDown', keys: ['pagedown'], description: 'calibration chart: page down' },
  { scope: 'inspector', action: 'nextTab', keys: ['tab', 'right'], description: 'next tab (metadata, tensors, types)' },
  { scope: 'inspector', action: 'prevTab', keys: ['shift+tab', 'left'], description: 'previous tab' },
  { scope: 'inspector', action: 'filter', keys: ['/'], description: 'tensors: filter by name or type (enter to finish)' },
  { scope: 'inspector', action: 'sort', keys: ['s'], description: 'tensors: sort by size / file order' },
  { scope: 'inspector', action: 'expand', keys: ['enter'], description: 'metadata: expand or collapse a long array' },
  { scope: 'inspector', action: 'quit', keys: ['q'], description: 'quit' },
];

/** One canonical name for an Ink key press: `up`, `enter`, `ctrl+c`, `shift+tab`, or the character. */
export function keyName(input: string, key: Key): string {
  if (key.upArrow) return 'up';
  if (key.downArrow) return 'down';
  if (key.leftArrow) return 'left';
  if (key.rightArrow) return 'right';
  if (key.pageUp) return 'pageup';
  if (key.pageDown) return 'pagedown';
  if (key.return) return 'enter';
  if (key.escape) return 'escape';
  if (key.tab) return key.shift ? 'shift+tab' : 'tab';
  if (key.backspace || key.delete) return 'backspace';
  if (key.ctrl && input) return `ctrl+${input}`;
  return input;
}

/** The action bound to `name` in the first of `scopes` that binds it, else in `global`. */
export function actionFor(scopes: Scope | Scope[], name: string): string | undefined {
  for (const scope of [...[scopes].flat(), 'global' as const]) {
    const b = KEYMAP.find((x) => x.scope === scope && x.keys.includes(name));
    if (b) return b.action;
  }
  return undefined;
}

/** A printable character typed into a text field (not a named key or a control chord). */
export function isTyped(input: string, key: Key, name: string): boolean {
  return input.length > 0 && !key.ctrl && !key.meta && name === input;
}
