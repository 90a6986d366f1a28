/**
 * Bad input, refusals and clean failure of `gguf-forge quantize`: typed errors naming the tensor,
 * nothing left behind, dry runs that write nothing, and the CLI's exit codes and output modes.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quantizeGguf } from '../src/pipeline/quantize.ts';
import { runHeadless } from '../src/cli/headless.ts';
import { runCli, spawnCli } from './support/cli.ts';
import { readGguf } from '../formats/gguf/reader.ts';
import { ForgeError } from '../formats/errors.ts';
import { GGML_TYPES } from '../kernels/ggml-types.ts';
import { canQuantize } from '../kernels/quant-table.ts';
import { loadLlamaCpp, llamaCppUnavailable } from './support/llama-cpp.ts';
import { STORIES_F32, writeLlamaGguf } from './quantize-fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'gguf-forge-quantize-err-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const sink = () => {
  let text = '';
  return { write: (s: string) => { text += s; return true; }, get text() { return text; } };
};
const quiet = async <T>(gen: AsyncGenerator<import('../src/pipeline/events.ts').PipelineEvent, T>) => runHeadless(gen, { stdout: sink(), stderr: sink() });
const leftovers = (d: string) => readdirSync(d).filter((n) => n.endsWith('.tmp'));

/** A copy of stories260K with one F32 value replaced. */
async function poisoned(name: string, tensor: string, element: number, value: number): Promise<string> {
  const path = join(dir, name);
  copyFileSync(STORIES_F32, path);
  const f = await readGguf(path);
  const t = f.tensors.find((x) => x.name === tensor)!;
  const buf = readFileSync(path);
  buf.writeFloatLE(value, f.dataOffset + t.offset + 4 * element);
  writeFileSync(path, buf);
  return path;
}

test('NaN or Inf in weights is refused, naming the tensor and the first bad element; nothing is left behind', async () => {
  const sub = mkdtempSync(join(dir, 'nan-'));
  const nan = await poisoned('nan.gguf', 'blk.1.attn_q.weight', 100, NaN);
  await assert.rejects(quiet(quantizeGguf({ input: nan, output: join(sub, 'out.gguf'), fileType: 'q4_0', threads: 1 })), (e: unknown) =>
    e instanceof ForgeError && e.kind === 'format' && /blk\.1\.attn_q\.weight/.test(e.message) && /element 100\b/.test(e.message));
  const inf = await poisoned('inf.gguf', 'blk.2.ffn_norm.weight', 5, -Infinity);
  await assert.rejects(quiet(quantizeGguf({ input: inf, output: join(sub, 'out.gguf'), fileType: 'q8_0', threads: 1 })), (e: unknown) =>
    e instanceof ForgeError && /blk\.2\.ffn_norm\.weight/.test(e.message) && /element 5\b/.test(e.message) && /-Infinity/.test(e.message));
  assert.deepEqual(readdirSync(sub), [], 'no output and no temporary file');
});

test('weights too large for the type (fp16 scale overflows) are refused like llama.cpp\'s validation', { skip: llamaCppUnavailable ?? false }, async () => {
  const big = await poisoned('big.gguf', 'blk.1.attn_q.weight', 64 * 3 + 5, 1e7);
  const sub = mkdtempSync(join(dir, 'big-'));
  await assert.rejects(quiet(quantizeGguf({ input: big, output: join(sub, 'out.gguf'), fileType: 'q8_0' })), (e: unknown) =>
    e instanceof ForgeError && e.kind === 'validation' && /blk\.1\.attn_q\.weight/.test(e.message) && /row 3\b/.test(e.message));
  assert.deepEqual(readdirSync(sub), []);
  const ll = await loadLlamaCpp();
  assert.notEqual(ll.modelQuantize(big, join(sub, 'theirs.gguf'), 7, { nthread: 1 }), 0, 'llama.cpp refuses it too');
});

test('an existing output is refused without --force and replaced with it', async () => {
  const out = join(dir, 'exists.gguf');
  writeFileSync(out, 'keep me');
  await assert.rejects(quiet(quantizeGguf({ input: STORIES_F32, output: out, fileType: 'q8_0' })), (e: unknown) => e instanceof ForgeError && e.kind === 'io' && e.code === 'EEXIST');
  assert.equal(readFileSync(out, 'utf8'), 'keep me');
  await quiet(quantizeGguf({ input: STORIES_F32, output: out, fileType: 'q8_0', force: true }));
  assert.equal((await readGguf(out)).tensors.length, 48 - 1);
  assert.deepEqual(leftovers(dir), []);
});

test('abort (Ctrl-C) stops the job and removes the temporary file', async () => {
  const sub = mkdtempSync(join(dir, 'abort-'));
  const controller = new AbortController();
  const gen = quantizeGguf({ input: STORIES_F32, output: join(sub, 'out.gguf'), fileType: 'q4_K_M', signal: controller.signal });
  await assert.rejects((async () => {
    for await (const ev of gen) if (ev.type === 'tensor' && ev.index === 3 && ev.state === 'done') controller.abort();
  })(), (e: unknown) => e instanceof ForgeError && e.kind === 'cancelled');
  assert.deepEqual(readdirSync(sub), []);
});

test('a consumer that stops early (generator.return()) leaves nothing behind', async () => {
  const sub = mkdtempSync(join(dir, 'return-'));
  const gen = quantizeGguf({ input: STORIES_F32, output: join(sub, 'out.gguf'), fileType: 'q8_0' });
  for await (const ev of gen) if (ev.type === 'tensor' && ev.state === 'done') break; // break calls gen.return()
  assert.deepEqual(readdirSync(sub), []);
});

test('--dry-run writes nothing and predicts the exact output size', async () => {
  const out = join(dir, 'dry.gguf');
  const plan = await quiet(quantizeGguf({ input: STORIES_F32, output: out, fileType: 'q5_K_M', dryRun: true }));
  assert.equal(existsSync(out), false);
  const rows = plan.plan as { name: string; sourceType: string; targetType: string; fallback?: { reason: string } }[];
  const down = rows.find((r) => r.name === 'blk.0.ffn_down.weight')!;
  assert.deepEqual([down.sourceType, down.targetType], ['F32', 'F16']);
  assert.match(down.fallback!.reason, /172 is not divisible by 256/);
  const real = await quiet(quantizeGguf({ input: STORIES_F32, output: out, fileType: 'q5_K_M' }));
  assert.equal(plan.outputBytes, real.outputBytes);
  assert.equal(plan.outputBytes, readFileSync(out).length);
});

test('already-quantized input: refused without --allow-requantize; with it, equal to llama.cpp', { skip: llamaCppUnavailable ?? false }, async () => {
  const ll = await loadLlamaCpp();
  const q8 = join(dir, 'stories-q8_0.gguf');
  assert.equal(ll.modelQuantize(STORIES_F32, q8, 7, { nthread: 1 }), 0);
  await assert.rejects(quiet(quantizeGguf({ input: q8, output: join(dir, 'rq.gguf'), fileType: 'q4_0' })), (e: unknown) =>
    e instanceof ForgeError && /already quantized \(Q8_0\)/.test(e.message) && /--allow-requantize/.test(e.message) && /'[a-z0-9_.]+\.weight'/.test(e.message));
  const ours = join(dir, 'rq.gguf');
  const theirs = join(dir, 'rq-theirs.gguf');
  await quiet(quantizeGguf({ input: q8, output: ours, fileType: 'q4_0', allowRequantize: true }));
  assert.equal(ll.modelQuantize(q8, theirs, 2, { nthread: 1, allowRequantize: true }), 0);
  assert.ok(readFileSync(ours).equals(readFileSync(theirs)), 'requantized file differs from llama.cpp');
  // A NaN fp16 scale in a tensor that is only copied: refused, as llama.cpp's loader refuses it.
  const bad = join(dir, 'stories-q8_0-nan.gguf');
  const f = await readGguf(q8);
  const t = f.tensors.find((x) => x.name === 'blk.1.attn_q.weight')!;
  const buf = readFileSync(q8);
  buf.writeUInt16LE(0x7e00, f.dataOffset + t.offset + 1 * 34); // row 0, its 2nd block: d = NaN
  buf.writeUInt16LE(0x7c00, f.dataOffset + t.offset + 3 * (64 / 32) * 34); // row 3, block 0: d = +Inf
  writeFileSync(bad, buf);
  assert.notEqual(ll.modelQuantize(bad, join(dir, 'nan-theirs.gguf'), 7, { nthread: 1 }), 0, 'llama.cpp refuses it too');
  await assert.rejects(quiet(quantizeGguf({ input: bad, output: join(dir, 'nan-ours.gguf'), fileType: 'q8_0' })), (e: unknown) =>
    e instanceof ForgeError && e.kind === 'format' && /blk\.1\.attn_q\.weight/.test(e.message) && /NaN or Inf scale in row 0\b/.test(e.message));
  assert.equal(existsSync(join(dir, 'nan-ours.gguf')), false);
});

/** Runs the real CLI in a child process (so its stdout is its own). */
function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = runCli(args);
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test('CLI: exit codes, --json document, --jsonl events, human output, bad flags', () => {
  const out = join(dir, 'cli.gguf');
  const json = cli(['quantize', STORIES_F32, out, '--type', 'q8_0', '--json', '--threads', '2']);
  assert.equal(json.code, 0, json.stderr);
  const doc = JSON.parse(json.stdout);
  assert.equal(doc.ok, true);
  assert.equal(doc.result.outputBytes, readFileSync(out).length);
  assert.equal(doc.warnings.length, doc.result.fallbacks);
  const again = cli(['quantize', STORIES_F32, out, '--type', 'q8_0']);
  assert.equal(again.code, 7);
  assert.match(again.stderr, /already exists \(use --force/);
  const human = cli(['quantize', STORIES_F32, out, '--type', 'Q5_K', '--force']);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^wrote .*cli\.gguf: q5_K_M, 47 tensors/);
  assert.match(human.stderr, /warning: blk\.0\.ffn_down\.weight: Q5_K → F16/);
  assert.match(human.stderr, /\[47\/47\] blk\.4\.ffn_up\.weight/);
  const x = join(dir, 'x.gguf');
  assert.equal(cli(['quantize', STORIES_F32, x, '--type', 'q9_K']).code, 2);
  assert.equal(cli(['quantize', STORIES_F32, x, '--type', 'q8_0', '--tensor-type', 'attn_q']).code, 2);
  assert.equal(cli(['quantize', STORIES_F32, x, '--type', 'q8_0', '--threads', '0']).code, 2);
  const noFallback = cli(['quantize', STORIES_F32, x, '--type', 'q8_0', '--tensor-type', 'attn_q=q1_0']);
  assert.equal(noFallback.code, 6);
  assert.match(noFallback.stderr, /blk\.0\.attn_q\.weight.*no tensor type fallback is defined for Q1_0/);
  // A type that fits 64 columns but that no kernel quantizes (kernels are added over time, so pick one now).
  const missing = GGML_TYPES.find((t) => !canQuantize(t.id) && t.blockSize > 1 && 64 % t.blockSize === 0);
  assert.ok(missing, 'expected at least one block type without a quantizer (e.g. the runtime-only Q8_1)');
  const noKernel = cli(['quantize', STORIES_F32, x, '--type', 'q8_0', '--tensor-type', `attn_q=${missing.name.toLowerCase()}`]);
  assert.equal(noKernel.code, 6, noKernel.stderr);
  assert.match(noKernel.stderr, new RegExp(`blk\\.0\\.attn_q\\.weight.*no ${missing.name} quantizer`));
  assert.equal(cli(['quantize', join(dir, 'missing.gguf'), x, '--type', 'q8_0']).code, 2, 'a missing input is a usage error, not a disk error');
  const jsonl = cli(['quantize', STORIES_F32, x, '--type', 'q8_0', '--jsonl', '--dry-run']);
  assert.equal(jsonl.code, 0, jsonl.stderr);
  const lines = jsonl.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(lines.some((l) => l.type === 'warning' && l.code === 'FALLBACK'));
  assert.equal(lines.at(-1).type, 'done');
  assert.equal(lines.at(-1).summary.dryRun, true);
  const dry = cli(['quantize', STORIES_F32, x, '--type', 'q4_K_M', '--dry-run']);
  assert.match(dry.stdout, /blk\.0\.attn_q\.weight +\[64, 64\] +F32 +→ Q5_0/);
  assert.match(dry.stdout, /fallback Q4_K → Q5_0: ne\[0\]=64 is not divisible by 256/);
  assert.match(dry.stdout, /dry run: 47 tensors/);
  assert.equal(existsSync(x), false);
  assert.deepEqual(leftovers(dir), []);
});

test('CLI: Ctrl-C (SIGINT) exits 130 and leaves no output or temporary file', async () => {
  const sub = mkdtempSync(join(dir, 'sigint-'));
  const input = join(dir, 'wide.gguf');
  await writeLlamaGguf(input, { nLayer: 2, nEmbd: 1024, nFf: 2816, nHead: 16, nHeadKv: 16, tied: false });
  const child = spawnCli(['quantize', input, join(sub, 'out.gguf'), '--type', 'q5_K_M', '--threads', '1']);
  let stderr = '';
  let sent = false;
  let tempsWhileWriting = -1;
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    // Interrupt once the first tensor is written: the temporary file exists and is partial.
    if (!sent && /\[ ?1\/\d+\]/.test(stderr)) {
      sent = true;
      tempsWhileWriting = readdirSync(sub).filter((n) => n.endsWith('.tmp')).length;
      child.kill('SIGINT');
    }
  });
  const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
  assert.ok(sent, `never saw a tensor line: ${stderr}`);
  assert.equal(tempsWhileWriting, 1, 'a temporary output exists while writing');
  assert.equal(code, 130, stderr);
  assert.match(stderr, /cancelled/);
  assert.deepEqual(readdirSync(sub), []);
});
