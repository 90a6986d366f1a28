/**
 * The one entry point `convert` (and anything else that needs a model folder) calls: a local
 * folder is returned as is; an `hf:ORG/NAME[@REV]` source is pulled into the HF cache (events
 * pass through, so the caller's progress display shows the download) and its snapshot folder is
 * returned. Callers `yield*` it inside their own pipeline generator.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fromFsError, IoError, UsageError } from '../../formats/errors.ts';
import type { PipelineEvent } from '../pipeline/events.ts';
import type { PullOptions } from './pull.ts';
import { parseHubSource, formatHubRef } from './source.ts';

export interface ResolvedSource {
  /** A local folder holding config.json, tokenizer files and safetensors. */
  dir: string;
  /** Present when the source was `hf:`: what was pulled. */
  hub?: { repo: string; revision: string; commit: string; files: string[] };
}

export type ResolveOptions = Omit<PullOptions, 'repo' | 'revision'>;

export async function* resolveSource(source: string, opts: ResolveOptions = {}): AsyncGenerator<PipelineEvent, ResolvedSource> {
  const ref = parseHubSource(source);
  if (!ref) return { dir: await localFolder(source) };
  if (ref.path) {
    throw new UsageError('BAD_HUB_SOURCE', `${formatHubRef(ref)}: conversion takes a whole repo (hf:${ref.repo}${ref.revision ? '@' + ref.revision : ''}), not a file inside it`, { repo: ref.repo });
  }
  // The Hub client (and @huggingface/hub) is loaded only when a source is on the Hub.
  const { pullModel } = await import('./pull.ts');
  const result = yield* pullModel({ ...opts, repo: ref.repo, revision: ref.revision });
  return { dir: result.snapshotDir, hub: { repo: ref.repo, revision: ref.revision ?? 'main', commit: result.commit, files: result.files } };
}

async function localFolder(p: string): Promise<string> {
  const dir = path.resolve(p);
  let st;
  try {
    st = await fs.stat(dir);
  } catch (err) {
    // A source that is not there is a bad argument (exit 2), not a disk failure.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError('NO_INPUT', `model folder not found: ${dir}`, { file: dir });
    throw fromFsError(err, dir, 'open model folder');
  }
  if (!st.isDirectory()) throw new IoError('ENOTDIR', `${dir} is not a folder (expected a model folder or hf:ORG/NAME)`, { file: dir });
  return dir;
}
