import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../src/cli/main.ts';

test('unknown command exits with the usage code', async () => {
  const code = await main(['definitely-not-a-command']);
  assert.equal(code, 2);
});
