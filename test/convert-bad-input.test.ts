/**
 * Issue 4's bad input: each case is a clear typed error naming the file or tensor, and no output
 * (or temporary file) is left behind.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertModel, type ConvertOptions } from '../src/pipeline/convert.ts';
import { openSafetensorsModel } from '../formats/safetensors/model.ts';
import { SafetensorsWriter } from '../formats/safetensors/writer.ts';
import { ForgeError } from '../formats/errors.ts';
import { exitCodeFor } from '../src/cli/exit-codes.ts';
import { ensureSamples, SAMPLE } from '../samples/lib/index.ts';
import { runJob } from './support/run-job.ts';

const STORIES = join(import.meta.dirname, '..', 'samples', 'stories260K');
let work: string;
let n = 0;

before(() => { work = mkdtempSync(join(tmpdir(), 'gguf-forge-bad-')); });
after(() => rmSync(work, { recursive: true, force: true }));

/** A fresh copy of stories260K to break. */
function copyModel(from = STORIES): string {
  const d = join(work, `model-${n++}`);
  cpSync(from, d, { recursive: true });
  rmSync(join(d, 'reference-convert-f32.gguf'), { force: true });
  return d;
}

/** Rewrites model.safetensors of `dir` after `edit` changes the tensor list or data. */
async function rewriteWeights(dir: string, edit: (ts: { name: string; dtype: 'F32'; shape: number[]; data: Float32Array }[]) => void) {
  const m = await openSafetensorsModel(dir);
  const ts = [];
  for (const t of m.tensors.values()) ts.push({ name: t.name, dtype: 'F32' as const, shape: t.shape, data: new Float32Array((await m.readTensor(t.name)).slice().buffer) });
  await m.close();
  edit(ts);
  const path = join(dir, 'model.safetensors');
  rmSync(path);
  const w = await SafetensorsWriter.open(path, ts.map(({ name, dtype, shape }) => ({ name, dtype, shape })), { format: 'pt' });
  for (const t of ts) await w.writeTensorData(t.name, new Uint8Array(t.data.buffer));
  await w.finish();
}

async function expectError(opts: Partial<ConvertOptions> & { source: string }, kind: string, code: string | RegExp, message: RegExp) {
  const outDir = join(work, `out-${n++}`);
  mkdirSync(outDir);
  const output = opts.output ?? join(outDir, 'out.gguf');
  await assert.rejects(runJob(convertModel({ fileType: 'q8_0', threads: 1, ...opts, output })), (err: unknown) => {
    assert.ok(err instanceof ForgeError, `not a ForgeError: ${String(err)}`);
    assert.equal(err.kind, kind, err.message);
    if (typeof code === 'string') assert.equal(err.code, code, err.message);
    else assert.match(err.code, code);
    assert.match(err.message, message);
    return true;
  });
  assert.deepEqual(readdirSync(outDir), [], 'nothing may be left in the output folder');
}

test('config.json missing, or not JSON', async () => {
  const a = copyModel();
  rmSync(join(a, 'config.json'));
  await expectError({ source: a }, 'format', 'MISSING_CONFIG', /config\.json/);
  const b = copyModel();
  writeFileSync(join(b, 'config.json'), '{"architectures": ["LlamaForCausalLM"], ');
  await expectError({ source: b }, 'format', /JSON|CONFIG/, /config\.json/);
});

test('an unsupported architecture lists the supported ones', async () => {
  const d = copyModel();
  const cfg = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'));
  writeFileSync(join(d, 'config.json'), JSON.stringify({ ...cfg, architectures: ['GPTNeoXForCausalLM'] }));
  await expectError({ source: d }, 'unsupported', /ARCH/, /GPTNeoXForCausalLM.*LlamaForCausalLM/s);
});

test('a tensor missing from the checkpoint, and one left unmapped, are named', async () => {
  const a = copyModel();
  await rewriteWeights(a, (ts) => ts.splice(ts.findIndex((t) => t.name === 'model.layers.3.mlp.up_proj.weight'), 1));
  await expectError({ source: a }, 'format', 'MISSING_TENSOR', /blk\.3\.ffn_up\.weight/);
  const b = copyModel();
  await rewriteWeights(b, (ts) => ts.push({ name: 'model.layers.0.mlp.mystery.weight', dtype: 'F32', shape: [4, 4], data: new Float32Array(16) }));
  await expectError({ source: b }, 'format', 'UNMAPPED_TENSOR', /model\.layers\.0\.mlp\.mystery\.weight/);
});

test('a shape that disagrees with config.json is named with both shapes', async () => {
  const d = copyModel();
  const cfg = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'));
  writeFileSync(join(d, 'config.json'), JSON.stringify({ ...cfg, intermediate_size: 176 }));
  await expectError({ source: d }, 'format', 'TENSOR_SHAPE', /mlp\.(down|gate|up)_proj\.weight.*172.*176/s);
});

test('an unknown dtype in the safetensors header', async () => {
  const d = copyModel();
  const path = join(d, 'model.safetensors');
  const bytes = readFileSync(path);
  const len = Number(bytes.readBigUInt64LE(0));
  const header = bytes.subarray(8, 8 + len).toString('utf8').replace('"F32"', '"Q99"');
  writeFileSync(path, Buffer.concat([bytes.subarray(0, 8 + len - header.length), Buffer.from(header), bytes.subarray(8 + len)]));
  await expectError({ source: d }, 'format', /DTYPE/, /model\.safetensors.*Q99/s);
});

test('a missing tokenizer names the folder and the files it looked for', async () => {
  const d = copyModel();
  for (const f of ['tokenizer.json', 'tokenizer.model']) rmSync(join(d, f));
  await expectError({ source: d }, 'format', /TOKENIZER/, /tokenizer\.model or tokenizer\.json/);
});

test('an unknown BPE pre-tokenizer names the hash and the --pre flag; --pre overrides it', async () => {
  const root = await ensureSamples();
  const d = copyModel(join(root, SAMPLE.qwen2.bf16));
  const tok = JSON.parse(readFileSync(join(d, 'tokenizer.json'), 'utf8'));
  tok.pre_tokenizer = { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true };
  writeFileSync(join(d, 'tokenizer.json'), JSON.stringify(tok));
  await expectError({ source: d }, 'unsupported', /PRE/, /[0-9a-f]{64}[\s\S]*--pre/);
  const { result } = await runJob(convertModel({ source: d, fileType: 'f16', output: join(work, 'pre-override.gguf'), pre: 'qwen2', validate: false }));
  assert.ok(existsSync(result.output));
});

test('NaN in weights is refused, naming the tensor and the element', async () => {
  const d = copyModel();
  await rewriteWeights(d, (ts) => { ts.find((t) => t.name === 'model.layers.2.self_attn.v_proj.weight')!.data[70] = NaN; });
  await expectError({ source: d }, 'format', 'NON_FINITE', /blk\.2\.attn_v\.weight.*element 70/);
});

test('an existing output is refused without --force', async () => {
  const out = join(work, 'exists.gguf');
  writeFileSync(out, 'keep me');
  await assert.rejects(runJob(convertModel({ source: STORIES, fileType: 'q8_0', output: out })), (e: unknown) => e instanceof ForgeError && e.kind === 'io' && /--force/.test(e.message));
  assert.equal(readFileSync(out, 'utf8'), 'keep me');
});

test('an unwritable output folder gives an IoError naming it, nothing left behind', async (t) => {
  const d = join(work, 'readonly');
  mkdirSync(d);
  chmodSync(d, 0o500);
  if (process.getuid?.() === 0) {
    // root ignores directory permissions: use a path under a regular file instead, which no one can create.
    writeFileSync(join(d, 'file'), '');
    await expectError({ source: STORIES, output: join(d, 'file', 'out.gguf') }, 'io', /ENOTDIR|ENOENT|EACCES/, /file[/\\]/);
    t.diagnostic('running as root: checked a path under a regular file instead of a read-only folder');
  } else {
    await expectError({ source: STORIES, output: join(d, 'out.gguf') }, 'io', 'EACCES', /readonly/);
  }
});

test('a full disk (a 64 KiB tmpfs) fails with ENOSPC naming the output, nothing left behind', async (t) => {
  const mnt = join(work, 'tiny-fs');
  mkdirSync(mnt);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt], { stdio: 'ignore' });
  } catch {
    t.skip('cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN)');
    return;
  }
  try {
    await assert.rejects(runJob(convertModel({ source: STORIES, fileType: 'f32', output: join(mnt, 'out.gguf') })), (e: unknown) =>
      e instanceof ForgeError && e.kind === 'io' && e.code === 'ENOSPC' && /out\.gguf|tiny-fs/.test(e.message) && exitCodeFor(e.kind) === 7);
    assert.deepEqual(readdirSync(mnt), []);
  } finally {
    execFileSync('umount', [mnt]);
  }
});

test('cancelling mid-write leaves nothing behind', async () => {
  const outDir = join(work, 'cancel');
  mkdirSync(outDir);
  const controller = new AbortController();
  const gen = convertModel({ source: STORIES, fileType: 'q5_K_M', output: join(outDir, 'x.gguf'), signal: controller.signal, threads: 1 });
  await assert.rejects((async () => {
    for (let s = await gen.next(); !s.done; s = await gen.next()) {
      if (s.value.type === 'tensor' && s.value.state === 'done' && s.value.index === 3) controller.abort();
    }
  })(), (e: unknown) => e instanceof ForgeError && e.kind === 'cancelled');
  assert.deepEqual(readdirSync(outDir), []);
});

test('--dry-run writes nothing and predicts the exact output size', async () => {
  const out = join(work, 'dry.gguf');
  const { result: dry } = await runJob(convertModel({ source: STORIES, fileType: 'q5_K_M', output: out, dryRun: true }));
  assert.ok(!existsSync(out));
  const { result } = await runJob(convertModel({ source: STORIES, fileType: 'q5_K_M', output: out, validate: false }));
  assert.equal(dry.outputBytes, result.outputBytes);
});

test('a broken source layer is an anomaly; --fail-on-anomaly exits 3 and keeps the output and the report', async () => {
  // Weights scaled down by 1e-6 (a bad merge, say): fp16 block scales underflow and the layer
  // round-trips to almost nothing, far above its peers' error and above later layers'.
  const d = copyModel();
  await rewriteWeights(d, (ts) => {
    const q = ts.find((t) => t.name === 'model.layers.0.self_attn.q_proj.weight')!;
    q.data = q.data.map((v) => v * 1e-6);
  });
  const out = join(work, 'anomaly.gguf');
  const { result } = await runJob(convertModel({ source: d, fileType: 'q8_0', output: out }));
  const report = result.report as { anomalies: { code: string; tensor?: string }[] };
  assert.deepEqual(report.anomalies.map((a) => `${a.code}:${a.tensor}`).sort(), ['early-layer-error:blk.0.attn_q.weight', 'outlier-error:blk.0.attn_q.weight']);

  const { main } = await import('../src/cli/main.ts');
  const reportPath = join(work, 'anomaly.report.json');
  const code = await main(['convert', d, '--type', 'q8_0', '-o', out, '--force', '--fail-on-anomaly', '--report', reportPath, '--json']);
  assert.equal(code, 3);
  assert.ok(existsSync(out), 'the output is kept for inspection');
  const saved = JSON.parse(readFileSync(reportPath, 'utf8'));
  assert.equal(saved.complete, true);
  assert.equal(saved.report.anomalies.length, 2);
});
