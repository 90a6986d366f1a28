/**
 * What `inspect` can look at, decided by one small function: a local GGUF file, an http(s) URL to
 * one, a GGUF inside a Hub repo (`hf:ORG/NAME/path/file.gguf`, read with range requests only), or
 * an AWQ/GPTQ checkpoint folder.
 */
import { stat } from 'node:fs/promises';
import { isUrl, openSource, type ByteSource } from '../../formats/io/byte-source.ts';
import { readGguf } from '../../formats/gguf/reader.ts';
import { UnsupportedError, UsageError } from '../../formats/errors.ts';
import type { QuantizedFolderReport } from '../../formats/awq-gptq/inspect.ts';
import { parseHubSource } from '../hub/source.ts';
import { buildInspectReport, type InspectReport } from './report.ts';
import type { BlockView } from './block-view.ts';
import type { ImatrixReport } from './imatrix-report.ts';

export type InspectTargetKind = 'gguf-file' | 'gguf-url' | 'gguf-hub' | 'folder';

export interface InspectOptions {
  /** `TENSOR[:INDEX]`: decode one block instead of the whole report. */
  block?: string;
  fullArrays?: boolean;
  /** AWQ/GPTQ folders: the layer (or unique substring) and group whose zeros and scales to decode. */
  layer?: string;
  group?: number;
  /** Hub access for `hf:` targets. */
  hub?: { token?: string; endpoint?: string; offline?: boolean };
}

export type InspectResult = { report: InspectReport } | { block: BlockView } | { quantized: QuantizedFolderReport } | { imatrix: ImatrixReport };

export async function inspectTargetKind(target: string): Promise<InspectTargetKind> {
  if (isUrl(target)) return 'gguf-url';
  if (parseHubSource(target)) return 'gguf-hub';
  const st = await stat(target).catch(() => undefined);
  return st?.isDirectory() ? 'folder' : 'gguf-file';
}

export async function inspectTarget(target: string, opts: InspectOptions = {}): Promise<InspectResult> {
  const kind = await inspectTargetKind(target);
  switch (kind) {
    case 'gguf-file':
      // A legacy .dat importance matrix has no magic of its own: its name says what it is.
      if (target.toLowerCase().endsWith('.dat')) return inspectImatrix(target);
      return inspectGguf(await openSource(target), opts, target);
    case 'gguf-url':
      return inspectGguf(await openSource(target), opts);
    case 'gguf-hub': {
      const ref = parseHubSource(target)!;
      if (!ref.path) throw new UsageError('INSPECT_HUB_REPO', `${target}: name a file inside the repo, e.g. hf:${ref.repo}/model.gguf`);
      return inspectGguf(await (await import('../hub/remote-file.ts')).openHubFile(ref, opts.hub), opts);
    }
    case 'folder': {
      // The AWQ/GPTQ readers (safetensors, unpacking kernels) load only for folders, not for GGUF files.
      const [{ isQuantizedFolder }, { inspectQuantizedFolder }] = await Promise.all([import('../../formats/awq-gptq/checkpoint.ts'), import('../../formats/awq-gptq/inspect.ts')]);
      if (!(await isQuantizedFolder(target))) {
        throw new UnsupportedError('INSPECT_FOLDER', `${target} is a folder without an AWQ/GPTQ quantization_config; inspect takes a GGUF file or an AWQ/GPTQ checkpoint folder`, { file: target });
      }
      return { quantized: await inspectQuantizedFolder(target, { layer: opts.layer, group: opts.group }) };
    }
  }
}

async function inspectImatrix(path: string): Promise<InspectResult> {
  const { readImatrix } = await import('../../formats/imatrix/read-imatrix.ts');
  const { buildImatrixReport } = await import('./imatrix-report.ts');
  return { imatrix: buildImatrixReport(path, await readImatrix(path)) };
}

async function inspectGguf(src: ByteSource, opts: InspectOptions, localPath?: string): Promise<InspectResult> {
  try {
    // Only the vocabulary's head is shown: its strings are decoded on demand.
    const file = await readGguf(src, { lazyStrings: true });
    // An imatrix GGUF (general.type = imatrix) gets the importance-matrix view, unless a block is asked for.
    if (localPath && opts.block === undefined && file.kvs.some((kv) => kv.key === 'general.type' && kv.value === 'imatrix')) return inspectImatrix(localPath);
    // The block decoders (quant layouts, fp16 tables) load only for --block.
    if (opts.block !== undefined) return { block: await (await import('./block-view.ts')).readBlockView(src, file, opts.block) };
    return { report: buildInspectReport(file, { fullArrays: opts.fullArrays }) };
  } finally {
    await src.close();
  }
}
