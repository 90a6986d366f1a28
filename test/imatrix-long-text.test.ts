// `--imatrix auto` over the whole default corpus tokenizes to well over 130 000 tokens on a small
// vocabulary (stories260K: 512 tokens); prepending BOS must not spread them into call arguments
// (that overflowed the stack: RangeError from `convert --imatrix auto` on the bundled sample).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { computeImatrix } from '../src/pipeline/imatrix-compute.ts';
import { drain } from '../src/pipeline/drain.ts';

const SAMPLE = join(import.meta.dirname, '../samples/stories260K');

test('a 300 000-token text: the BOS is prepended without a stack overflow, and one chunk is computed', async () => {
  const textTokens = Int32Array.from({ length: 300_000 }, (_, i) => 3 + (i % 500));
  const r = await drain(computeImatrix({ model: SAMPLE, textTokens, chunks: 1, ctx: 64, threads: 1 }), () => {});
  assert.equal(r.chunks, 1);
  assert.equal(r.tokens, 64);
  assert.equal(r.imatrix.entries.size, 35);
});
