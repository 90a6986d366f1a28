/**
 * What the fuzz test feeds mutated files to, and how it judges the outcome. Starting points are
 * real files: samples/stories260K (GGUF, safetensors, SentencePiece and byte-fallback BPE
 * tokenizers) and the generated Qwen2 sample (byte-level BPE). Each case mutates one file and runs
 * the code a user would: the GGUF reader and inspect, the safetensors reader, or `convert --dry-run`
 * (which reads and checks everything a real run does before the tensor data).
 */
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ForgeError } from '../../formats/errors.ts';
import { MESSAGE_MAX } from '../../formats/untrusted-text.ts';
import { readGguf, readTensorBytes } from '../../formats/gguf/reader.ts';
import { memorySource } from '../../formats/io/byte-source.ts';
import { openSafetensorsModel } from '../../formats/safetensors/model.ts';
import { buildInspectReport } from '../../src/inspect/report.ts';
import { renderInspectText } from '../../src/inspect/render-text.ts';
import { convertModel } from '../../src/pipeline/convert.ts';
import { mutateBytes, mutateJson, rng, type Rand } from './fuzz-mutator.ts';
import { runJob } from './run-job.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const STORIES = join(ROOT, 'samples', 'stories260K');
const QWEN2 = join(ROOT, 'samples', 'generated', 'tiny-qwen2-f32');

export type Outcome =
  | { kind: 'ok' }
  | { kind: 'typed'; code: string }
  | { kind: 'untyped' | 'unsafe-message'; detail: string };

interface Target {
  name: string;
  run(r: Rand): Promise<void>;
}

/** A model folder to break: small files copied, weights linked (never modified through the link). */
function folder(work: string, name: string, from: string, drop: string[] = []): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'tokenizer.model', 'generation_config.json']) {
    if (drop.includes(f)) continue;
    try { cpSync(join(from, f), join(dir, f)); } catch { /* not every sample has every file */ }
  }
  symlinkSync(join(from, 'model.safetensors'), join(dir, 'model.safetensors'));
  return dir;
}

async function dryRun(dir: string, work: string): Promise<void> {
  await runJob(convertModel({ source: dir, fileType: 'q8_0', dryRun: true, threads: 1, output: join(work, 'out.gguf') }));
}

/** Mutate `file` in `dir`, run, restore. */
function jsonTarget(name: string, dir: string, file: string, work: string): Target {
  const path = join(dir, file);
  const original = readFileSync(path, 'utf8');
  return {
    name,
    async run(r) {
      writeFileSync(path, mutateJson(original, r));
      try { await dryRun(dir, work); } finally { writeFileSync(path, original); }
    },
  };
}

export async function makeTargets(work: string): Promise<Target[]> {
  const spm = folder(work, 'spm', STORIES);
  const llamaHf = folder(work, 'llama-hf', STORIES, ['tokenizer.model']);
  const gpt2 = folder(work, 'gpt2', QWEN2);

  const gguf = new Uint8Array(readFileSync(join(STORIES, 'reference-convert-f32.gguf')));
  const ggufHot = (await readGguf(memorySource('base.gguf', gguf))).dataOffset;
  const st = new Uint8Array(readFileSync(join(STORIES, 'model.safetensors')));
  const stHot = 8 + Number(new DataView(st.buffer, st.byteOffset).getBigUint64(0, true));
  const stDir = folder(work, 'st', STORIES);
  rmSync(join(stDir, 'model.safetensors'));

  return [
    {
      name: 'gguf',
      async run(r) {
        const src = memorySource('fuzz.gguf', mutateBytes(gguf, r, ggufHot));
        const file = await readGguf(src);
        renderInspectText(buildInspectReport(file));
        for (const t of file.tensors.slice(0, 3)) await readTensorBytes(src, file, t, 0, 1);
      },
    },
    {
      name: 'safetensors',
      async run(r) {
        writeFileSync(join(stDir, 'model.safetensors'), mutateBytes(st, r, stHot));
        const m = await openSafetensorsModel(stDir);
        try {
          for (const t of [...m.tensors.values()].slice(0, 4)) if (t.shape.length && t.shape[0]! > 0) await m.readRows(t.name, 0, 1);
        } finally {
          await m.close();
        }
        await dryRun(stDir, work);
      },
    },
    jsonTarget('config.json (sentencepiece)', spm, 'config.json', work),
    jsonTarget('config.json (gpt2 bpe)', gpt2, 'config.json', work),
    jsonTarget('tokenizer.json (byte-fallback bpe)', llamaHf, 'tokenizer.json', work),
    jsonTarget('tokenizer.json (gpt2 bpe)', gpt2, 'tokenizer.json', work),
    jsonTarget('tokenizer_config.json (sentencepiece)', spm, 'tokenizer_config.json', work),
    jsonTarget('tokenizer_config.json (byte-fallback bpe)', llamaHf, 'tokenizer_config.json', work),
    jsonTarget('tokenizer_config.json (gpt2 bpe)', gpt2, 'tokenizer_config.json', work),
  ];
}

/** The seed of case `i` of a run: independent of how the run is split across workers. */
export const caseSeed = (runSeed: number, i: number) => (Math.imul(runSeed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(i + 1, 0xc2b2ae35)) >>> 0;

/** Runs case `i` and judges it: a valid result or one of our typed errors with a safe message. */
export async function runCase(targets: Target[], runSeed: number, i: number): Promise<{ target: string; outcome: Outcome }> {
  const target = targets[i % targets.length]!;
  try {
    await target.run(rng(caseSeed(runSeed, i)));
    return { target: target.name, outcome: { kind: 'ok' } };
  } catch (err) {
    if (!(err instanceof ForgeError) || err.kind === 'internal') {
      const e = err as Error;
      return { target: target.name, outcome: { kind: 'untyped', detail: `${e?.name}: ${String(e?.message).slice(0, 300)}\n${e?.stack?.split('\n').slice(1, 4).join('\n')}` } };
    }
    // eslint-disable-next-line no-control-regex
    if (err.message.length > MESSAGE_MAX || /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(err.message)) {
      return { target: target.name, outcome: { kind: 'unsafe-message', detail: `${err.code}: ${JSON.stringify(err.message.slice(0, 300))} (${err.message.length} chars)` } };
    }
    return { target: target.name, outcome: { kind: 'typed', code: `${err.kind}:${err.code}` } };
  }
}
