/**
 * AWQ/GPTQ have no dry-run table: this screen states what will be written (method, bits, group
 * size, output folder) and asks to start. Layers that break a shape rule are kept in fp16 and
 * reported as warnings while the run goes.
 */
import React from 'react';
import { Text } from 'ink';
import { useKeys } from '../use-keys.ts';
import { Frame } from '../components.tsx';
import { actionFor, keyName } from '../keymap.ts';
import { tone } from '../theme.ts';
import type { AwqGptqOptions } from '../../pipeline/awq-gptq.ts';

export function ConfirmGroupwise({ options, active, onConfirm, onBack }: { options: AwqGptqOptions; active: boolean; onConfirm: () => void; onBack: () => void }) {
  useKeys((input, key) => {
    const action = actionFor('plan', keyName(input, key));
    if (action === 'back') onBack();
    else if (action === 'confirm') onConfirm();
  }, { isActive: active });
  const sym = options.sym ?? options.method === 'gptq';
  return (
    <Frame title={`plan · ${options.method}`} hints="enter/y start · esc back">
      <Text>{options.method.toUpperCase()} int{options.bits ?? 4}, group size {options.groupSize ?? 128}, {sym ? 'symmetric' : 'asymmetric (zero points)'}, round-to-nearest</Text>
      <Text>source  {options.source}</Text>
      <Text>output  {options.output}/ (safetensors checkpoint folder for vLLM / transformers)</Text>
      <Text color={tone('dim')}>Linear layers are packed; embeddings, norms and layers that break a shape rule stay fp16 (listed as warnings).</Text>
      <Text bold>Start the conversion? enter / y</Text>
    </Frame>
  );
}
