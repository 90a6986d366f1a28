/** Home: convert a model, inspect a GGUF, or open the bundled sample (works with no network). */
import React, { useState } from 'react';
import { Text } from 'ink';
import { useKeys } from '../use-keys.ts';
import { Frame, SelectList } from '../components.tsx';
import { actionFor, keyName } from '../keymap.ts';

export type HomeChoice = 'convert' | 'inspect' | 'sample' | 'quit';

const ITEMS: { choice: HomeChoice; label: string; key: string }[] = [
  { choice: 'convert', label: 'Convert a model (Hub search, local folder, or HF cache)', key: 'c' },
  { choice: 'inspect', label: 'Inspect a GGUF file (local path, URL, or hf:ORG/NAME/FILE)', key: 'i' },
  { choice: 'sample', label: 'Open the bundled sample: stories260K (no network)', key: 's' },
  { choice: 'quit', label: 'Quit', key: 'q' },
];
/** The hotkeys line up in one column after the longest label. */
const LABEL_WIDTH = Math.max(...ITEMS.map((it) => it.label.length)) + 2;

export function Home({ active, onChoose }: { active: boolean; onChoose: (c: HomeChoice) => void }) {
  const [sel, setSel] = useState(0);
  useKeys((input, key) => {
    const action = actionFor(['home', 'list'], keyName(input, key));
    if (action === 'up') setSel((s) => Math.max(0, s - 1));
    else if (action === 'down') setSel((s) => Math.min(ITEMS.length - 1, s + 1));
    else if (action === 'select') onChoose(ITEMS[sel]!.choice);
    else if (action === 'convert' || action === 'inspect' || action === 'sample' || action === 'quit') onChoose(action);
  }, { isActive: active });
  return (
    <Frame title="home" hints="↑↓ move · enter choose">
      <Text>Convert Hugging Face models to GGUF (bit-identical to llama.cpp) and check the result.</Text>
      <Text> </Text>
      <SelectList items={ITEMS} selected={sel} render={(it) => <Text>{it.label.padEnd(LABEL_WIDTH)}{it.key}</Text>} />
    </Frame>
  );
}
