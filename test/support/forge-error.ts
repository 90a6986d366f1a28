/** Asserts that a promise rejects with a ForgeError of the given kind and code whose message matches. */
import assert from 'node:assert/strict';
import { ForgeError } from '../../formats/errors.ts';

export async function rejectsWith(p: Promise<unknown>, kind: string, code: string, re: RegExp): Promise<ForgeError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ForgeError, `expected ForgeError, got ${(err as Error)?.stack}`);
    assert.equal(err.kind, kind, err.message);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, re);
    return err;
  }
  assert.fail('expected a rejection');
}
