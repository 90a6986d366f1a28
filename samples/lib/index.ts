/**
 * The generated sample models: their folder names, and ensureSamples(), which (re)generates
 * samples/generated/ only when its stamp does not match the generator's current sources.
 *
 * Generation writes a fresh temporary folder and renames it into place, so concurrent test
 * processes calling ensureSamples() never see a half-written sample.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { rename, rm, writeFile, mkdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ARCHITECTURES, type SampleArchitecture } from './architectures.ts';
import { sampleValues } from './weights.ts';
import { writeSample, type SampleDtype, type SampleSpec } from './write-sample.ts';

const SAMPLES_DIR = fileURLToPath(new URL('..', import.meta.url));
const REPO_DIR = join(SAMPLES_DIR, '..');
const STORIES_DIR = join(SAMPLES_DIR, 'stories260K');
export const GENERATED_DIR = join(SAMPLES_DIR, 'generated');
const STAMP_FILE = 'stamp.json';

/** Folder names under the generated root. `sharded` is BF16 in two shards with an index.json. */
export const SAMPLE = {
  llama: { bf16: 'tiny-llama-bf16', f16: 'tiny-llama-f16', f32: 'tiny-llama-f32', sharded: 'tiny-llama-bf16-sharded' },
  qwen2: { bf16: 'tiny-qwen2-bf16', f16: 'tiny-qwen2-f16', f32: 'tiny-qwen2-f32', sharded: 'tiny-qwen2-bf16-sharded' },
  mistral: { bf16: 'tiny-mistral-bf16', f16: 'tiny-mistral-f16', f32: 'tiny-mistral-f32', sharded: 'tiny-mistral-bf16-sharded' },
} as const;

export type SampleName = (typeof SAMPLE)[keyof typeof SAMPLE][keyof (typeof SAMPLE)['llama']];

export const SAMPLE_SPECS: SampleSpec[] = ARCHITECTURES.flatMap((arch: SampleArchitecture) => {
  const names = SAMPLE[arch.id];
  const variants: [string, SampleDtype, 1 | 2][] = [
    [names.bf16, 'BF16', 1], [names.f16, 'F16', 1], [names.f32, 'F32', 1], [names.sharded, 'BF16', 2],
  ];
  return variants.map(([name, dtype, shards]) => ({ name, arch, dtype, shards }));
});

/** Everything whose change can change the output bytes. */
function fingerprint(): string {
  const inputs = [
    ...readdirSync(join(SAMPLES_DIR, 'lib')).sort().map((f) => join(SAMPLES_DIR, 'lib', f)),
    ...['dtypes.ts', 'header.ts', 'writer.ts', 'index-json.ts'].map((f) => join(REPO_DIR, 'formats', 'safetensors', f)),
    ...['tokenizer.json', 'tokenizer.model', 'tokenizer_config.json'].map((f) => join(STORIES_DIR, f)),
  ];
  const h = createHash('sha256');
  for (const file of inputs) h.update(relative(REPO_DIR, file)).update('\0').update(readFileSync(file)).update('\0');
  return h.digest('hex');
}

interface Stamp { fingerprint: string; files: Record<string, number> }

function listFiles(root: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const sample of readdirSync(root).sort()) {
    const dir = join(root, sample);
    if (!statSync(dir).isDirectory()) continue;
    for (const f of readdirSync(dir).sort()) out[`${sample}/${f}`] = statSync(join(dir, f)).size;
  }
  return out;
}

/** True when `root` holds a complete generation made by the current sources. */
export function isUpToDate(root: string, expected = fingerprint()): boolean {
  try {
    const stamp = JSON.parse(readFileSync(join(root, STAMP_FILE), 'utf8')) as Stamp;
    if (stamp.fingerprint !== expected) return false;
    return Object.entries(stamp.files).every(([f, size]) => statSync(join(root, f)).size === size);
  } catch {
    return false;
  }
}

/** Write every sample into `root` (which must not exist yet) and stamp it. */
export async function generateSamples(root: string, stampWith = fingerprint()): Promise<void> {
  await mkdir(root, { recursive: true });
  for (const arch of ARCHITECTURES) {
    const values = new Map(arch.tensors.map((t) => [t.name, sampleValues(arch.id, t)]));
    for (const spec of SAMPLE_SPECS.filter((s) => s.arch === arch)) {
      await writeSample(join(root, spec.name), spec, values, STORIES_DIR);
    }
  }
  const stamp: Stamp = { fingerprint: stampWith, files: listFiles(root) };
  await writeFile(join(root, STAMP_FILE), JSON.stringify(stamp, null, 2) + '\n');
}

let pending: Promise<string> | undefined;

/** Make sure samples/generated/ is complete and current; returns its path. Fast when it already is. */
export function ensureSamples(): Promise<string> {
  return (pending ??= ensure().catch((err) => {
    pending = undefined;
    throw err;
  }));
}

async function ensure(): Promise<string> {
  const expected = fingerprint();
  if (isUpToDate(GENERATED_DIR, expected)) return GENERATED_DIR;
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const fresh = join(SAMPLES_DIR, `.tmp-generated-${tag}`);
  const old = join(SAMPLES_DIR, `.tmp-old-generated-${tag}`);
  try {
    await generateSamples(fresh, expected);
    for (let attempt = 0; ; attempt++) {
      // Another process may have finished first: then its result is as good as ours.
      if (isUpToDate(GENERATED_DIR, expected)) break;
      await rename(GENERATED_DIR, old).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'ENOENT') throw err; });
      try {
        await rename(fresh, GENERATED_DIR);
        break;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (attempt >= 3 || (code !== 'ENOTEMPTY' && code !== 'EEXIST')) throw err;
      }
    }
  } finally {
    await rm(fresh, { recursive: true, force: true });
    await rm(old, { recursive: true, force: true });
  }
  return GENERATED_DIR;
}
