import { test } from 'node:test';
import React from 'react';
import { render } from 'ink-testing-library';
import path from 'node:path';
import { Target } from '../src/tui/screens/target.tsx';
import { KEYS, press, waitForText } from './support/tui-harness.ts';
test('scratch', async () => {
  const r = render(<Target name="m" source={path.resolve('samples/stories260K')} parameters={1000} active defaultOutput={(t) => `m-${t}.gguf`} onChoose={(c) => console.log(c)} onBack={() => {}} />);
  await waitForText(r, 'output type');
  await press(r, 'i');
  await waitForText(r, 'auto');
  await press(r, 'c', '1', '6');
  console.log(r.lastFrame());
  await press(r, KEYS.enter);
  console.log(r.lastFrame());
  r.unmount();
});
