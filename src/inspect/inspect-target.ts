/**
 * What `inspect` can look at, decided by one small function so new kinds (an AWQ/GPTQ folder,
 * an `hf:` repo) are one more branch: today a local GGUF file or an http(s) URL to one.
 */
import { stat } from 'node:fs/promises';
import { isUrl, openSource } from '../../formats/io/byte-source.ts';
import { readGguf } from '../../formats/gguf/reader.ts';
import { UnsupportedError } from '../../formats/errors.ts';
import { buildInspectReport, type InspectReport } from './report.ts';
import { readBlockView, type BlockView } from './block-view.ts';

export type InspectTargetKind = 'gguf-file' | 'gguf-url' | 'folder';

export interface InspectOptions {
  /** `TENSOR[:INDEX]`: decode one block instead of the whole report. */
  block?: string;
  fullArrays?: boolean;
}

export type InspectResult = { report: InspectReport } | { block: BlockView };

export async function inspectTargetKind(target: string): Promise<InspectTargetKind> {
  if (isUrl(target)) return 'gguf-url';
  const st = await stat(target).catch(() => undefined);
  return st?.isDirectory() ? 'folder' : 'gguf-file';
}

export async function inspectTarget(target: string, opts: InspectOptions = {}): Promise<InspectResult> {
  const kind = await inspectTargetKind(target);
  switch (kind) {
    case 'gguf-file':
    case 'gguf-url':
      return inspectGguf(target, opts);
    case 'folder':
      throw new UnsupportedError('INSPECT_FOLDER', `${target} is a folder; inspecting model folders is not supported yet`, { file: target });
  }
}

async function inspectGguf(target: string, opts: InspectOptions): Promise<InspectResult> {
  const src = await openSource(target);
  try {
    const file = await readGguf(src);
    if (opts.block !== undefined) return { block: await readBlockView(src, file, opts.block) };
    return { report: buildInspectReport(file, { fullArrays: opts.fullArrays }) };
  } finally {
    await src.close();
  }
}
