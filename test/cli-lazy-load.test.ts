/**
 * The compiled CLI loads only what a command needs: `--help` and `--version` parse flags and
 * print, with no kernels, tokenizer, Hub client, pipeline or React; `inspect` of a local file and
 * a local `convert --dry-run` load no Hub client (@huggingface/hub is for hf: sources) and start
 * start no worker thread; only a command that quantizes starts the pool, whose workers run the
 * compiled worker.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CLI_ENTRY, ROOT } from './support/cli.ts';

const RECORDER = path.join(ROOT, 'test/support/record-imports.mjs');
const SAMPLE = path.join(ROOT, 'samples/stories260K');
const F32 = path.join(SAMPLE, 'reference-convert-f32.gguf');
const dir = mkdtempSync(path.join(tmpdir(), 'gguf-forge-lazy-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function loaded(args: string[]): string[] {
  const file = path.join(dir, `imports-${n++}.txt`);
  const r = spawnSync(process.execPath, ['--import', RECORDER, CLI_ENTRY, ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true', RECORD_IMPORTS: file }, timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  return readFileSync(file, 'utf8').trim().split('\n').map((u) => u.replace(/^file:\/\//, '').replace(ROOT + '/', ''));
}

const HEAVY: [string, RegExp][] = [
  ['kernels', /^dist\/kernels\/(ref|fast|wasm|groupwise)\//],
  ['tokenizer', /^dist\/formats\/hf\/tokenizer\//],
  ['Hub client', /node_modules\/@huggingface\/hub\/|^dist\/src\/hub\/(pull|http|repo-info|remote-file|search)\.js/],
  ['React/ink', /node_modules\/(react|ink)\//],
  ['pipeline', /^dist\/src\/pipeline\/(convert|quantize|write-gguf|awq-gptq)\.js/],
  ['TypeScript loader', /node_modules\/(tsx|esbuild)\//],
];

test('--help, --version and help <command> load commander and the command declarations only', () => {
  for (const args of [['--help'], ['--version'], ['help', 'convert'], ['convert', '--help']]) {
    const urls = loaded(args);
    assert.ok(urls.some((u) => u.includes('node_modules/commander/')), 'commander is loaded');
    for (const [what, re] of HEAVY) assert.deepEqual(urls.filter((u) => re.test(u)), [], `${args.join(' ')} loads no ${what}`);
  }
});

test('local inspect, a local convert --dry-run and a quantize that quantizes nothing load no Hub client and start no worker', () => {
  for (const args of [['inspect', F32], ['convert', SAMPLE, '--type', 'q8_0', '--dry-run'], ['quantize', F32, path.join(dir, 'x.gguf'), '--type', 'q8_0', '--dry-run'], ['quantize', F32, path.join(dir, 'f.gguf'), '--type', 'f32']]) {
    const urls = loaded(args);
    assert.deepEqual(urls.filter((u) => HEAVY[2]![1].test(u)), [], `${args[0]}: no Hub client`);
    assert.deepEqual(urls.filter((u) => /^dist\/kernels\/fast\/worker\.cjs/.test(u)), [], `${args[0]}: no worker thread started`);
    assert.deepEqual(urls.filter((u) => HEAVY[3]![1].test(u) || HEAVY[5]![1].test(u)), [], `${args[0]}: no React, no TypeScript loader`);
  }
});

test('quantize loads the worker pool (and the workers their wasm), still no Hub client or React', () => {
  const urls = loaded(['quantize', F32, path.join(dir, 'q.gguf'), '--type', 'q8_0', '--threads', '2']);
  assert.ok(urls.includes('dist/kernels/fast/pool.js'));
  // An F32 input goes file to file through the wasm kernels: no JS reference kernel is loaded (kernels/quant-support.ts answers the plan's questions).
  assert.deepEqual(urls.filter((u) => /^dist\/kernels\/(ref\/|quant-table\.js)/.test(u)), [], 'no reference kernels');
  // On a model this small the calling thread may finish before its one worker has booted, so the
  // worker script need not appear; whatever kernel code ran is the compiled build's.
  assert.deepEqual(urls.filter((u) => u.startsWith('dist/kernels/') && !/\.(c?js)$/.test(u)), [], 'compiled kernels only');
  for (const i of [2, 3, 5]) assert.deepEqual(urls.filter((u) => HEAVY[i]![1].test(u)), [], HEAVY[i]![0]);
});

test('quantize --threads 1 runs in the calling thread: the pool starts no worker (src/cli/early-pool.ts, pool.ts callerWorks)', () => {
  const urls = loaded(['quantize', F32, path.join(dir, 'q1.gguf'), '--type', 'q8_0', '--threads', '1']);
  assert.ok(urls.includes('dist/kernels/fast/prestart.js'), 'the pool was started before the CLI loaded');
  assert.ok(urls.includes('dist/kernels/fast/job-runner.cjs'), 'this thread runs the jobs');
  assert.deepEqual(urls.filter((u) => /^dist\/kernels\/fast\/worker\.cjs/.test(u)), [], 'no worker thread');
});

test('a command line that names a command declares that one alone; --version declares none; inspect loads block decoders only for --block', () => {
  const commandModules = (urls: string[]) => urls.filter((u) => /^dist\/src\/cli\/commands\/(?!index)/.test(u)).sort();
  const inspect = loaded(['inspect', F32]);
  assert.deepEqual(commandModules(inspect), ['dist/src/cli/commands/inspect.js']);
  for (const re of [/^dist\/src\/policy\//, /^dist\/src\/inspect\/block-view\.js/, /^dist\/kernels\/fp16\.js/, /^dist\/formats\/gguf\/block-layouts\.js/]) {
    assert.deepEqual(inspect.filter((u) => re.test(u)), [], `inspect without --block loads no ${re}`);
  }
  assert.ok(loaded(['inspect', F32, '--block', 'token_embd.weight']).includes('dist/src/inspect/block-view.js'));
  assert.deepEqual(commandModules(loaded(['--version'])), []);
  assert.equal(commandModules(loaded(['--help'])).length, 7, '--help lists every command');
});
