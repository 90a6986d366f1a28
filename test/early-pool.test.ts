/**
 * src/cli/early-pool.ts: which command lines boot their worker pool before the CLI loads, and
 * with how many threads; everything else (help, dry runs, f32, other commands) boots none.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { earlyPoolThreads } from '../src/cli/early-pool.ts';

test('quantize and convert boot a pool of --threads (default: all cores)', () => {
  assert.equal(earlyPoolThreads(['quantize', 'in.gguf', 'out.gguf', '--type', 'q4_0', '--threads', '2']), 2);
  assert.equal(earlyPoolThreads(['quantize', 'in.gguf', 'out.gguf', '--threads=3', '--type', 'q4_0']), 3);
  assert.equal(earlyPoolThreads(['convert', 'model/', '--type', 'q8_0']), availableParallelism());
});

test('no pool for help, dry runs, f32 targets, other commands, or a malformed --threads (commander reports that)', () => {
  for (const argv of [
    [], ['--help'], ['inspect', 'x.gguf'], ['batch', 'jobs.yaml'], ['pull', 'hf:a/b'],
    ['quantize', '--help'], ['convert', 'm/', '-h'], ['quantize', 'a', 'b', '--type', 'q4_0', '--dry-run'],
    ['quantize', 'a', 'b', '--type', 'F32'], ['convert', 'm/', '--type=f32'],
    ['quantize', 'a', 'b', '--type', 'q4_0', '--threads', '0'], ['quantize', 'a', 'b', '--type', 'q4_0', '--threads', 'two'],
  ]) assert.equal(earlyPoolThreads(argv), undefined, argv.join(' '));
});

test('flags after -- are arguments, not flags', () => {
  assert.equal(earlyPoolThreads(['quantize', 'a', 'b', '--type', 'q4_0', '--threads', '2', '--', '--dry-run']), 2);
});
