/**
 * The model summary of a Hub repo before anything is downloaded: the file list and sizes (tree
 * API), config.json (architecture, dtype, supported or why), and the parameter count from the
 * safetensors headers, read with range requests (a few kB per shard, never the weights).
 */
import { SUPPORTED_ARCHITECTURES } from '../../../formats/hf/architectures.ts';
import { countParameters } from '../../../formats/hf/size-label.ts';
import { readSafetensorsHeaderFrom } from '../../../formats/safetensors/reader.ts';
import { makeClient } from '../../hub/http.ts';
import { listRepoFiles, resolveCommit } from '../../hub/repo-info.ts';
import { openHubFile, type HubFileOptions } from '../../hub/remote-file.ts';
import type { ModelSummaryData } from './model-summary.ts';

export async function loadHubSummary(repo: string, opts: HubFileOptions = {}): Promise<ModelSummaryData> {
  const client = makeClient({ endpoint: opts.endpoint, token: opts.token, fetch: opts.fetch, signal: opts.signal, retries: opts.retries, retryDelayMs: opts.retryDelayMs });
  const commit = await resolveCommit(client, repo, 'main');
  const listed = await listRepoFiles(client, repo, commit);
  const files = listed.map((f) => ({ name: f.path, bytes: f.size })).sort((a, b) => a.name.localeCompare(b.name));
  const out: ModelSummaryData = { dir: `hf:${repo}@${commit.slice(0, 12)}`, name: repo.split('/').pop()!, files, totalBytes: files.reduce((s, f) => s + f.bytes, 0), supported: false };
  const read = async (path: string) => {
    const src = await openHubFile({ repo, revision: commit, path }, opts);
    try {
      return { src, size: await src.size() };
    } catch (err) {
      await src.close();
      throw err;
    }
  };
  const has = (name: string) => files.some((f) => f.name === name);
  out.tokenizer = [has('tokenizer.json') && 'tokenizer.json', has('tokenizer.model') && 'SentencePiece (tokenizer.model)'].filter(Boolean).join(' + ') || 'none found';
  if (!has('config.json')) {
    out.reason = `hf:${repo} has no config.json: not a Hugging Face transformers model`;
    return out;
  }
  const { src, size } = await read('config.json');
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(new TextDecoder().decode(await src.read(0, size)));
  } catch (err) {
    out.reason = `hf:${repo}/config.json is not valid JSON: ${(err as Error).message}`;
    return out;
  } finally {
    await src.close();
  }
  const text = (config.text_config ?? {}) as Record<string, unknown>;
  const arch = ((text.architectures ?? config.architectures) as unknown[] | undefined)?.[0];
  out.architecture = typeof arch === 'string' ? arch : undefined;
  const dtype = text.torch_dtype ?? config.torch_dtype ?? config.dtype;
  out.dtype = typeof dtype === 'string' ? dtype : undefined;
  const shards = files.filter((f) => f.name.endsWith('.safetensors'));
  if (shards.length) out.parameters = countParameters((await Promise.all(shards.map((f) => shapesOf(f.name)))).flat());
  if (!out.architecture) out.reason = `hf:${repo}/config.json names no "architectures"`;
  else if (!SUPPORTED_ARCHITECTURES.includes(out.architecture)) out.reason = `architecture '${out.architecture}' is not supported; supported: ${SUPPORTED_ARCHITECTURES.join(', ')}`;
  else if (!shards.length) out.reason = `hf:${repo} has no .safetensors weights`;
  else out.supported = true;
  return out;

  async function shapesOf(path: string): Promise<number[][]> {
    const { src: f } = await read(path);
    try {
      return [...(await readSafetensorsHeaderFrom(f)).tensors.values()].map((t) => t.shape);
    } finally {
      await f.close();
    }
  }
}
