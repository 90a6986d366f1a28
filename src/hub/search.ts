/**
 * Hub model search for the TUI's picker: text-generation models that ship weights we can read
 * (safetensors to convert, or GGUF to inspect). The Hub tags such repos "safetensors" / "gguf";
 * the file list is the fallback when tags are missing. Results are filtered client-side (the API
 * cannot OR two tags), so a few more are fetched than asked for. The query and paging are
 * @huggingface/hub's listModels, over our fetch (auth, retries, typed errors).
 */
import { listModels as hubListModels } from '@huggingface/hub';
import { fetchThrough, makeClient } from './http.ts';

export interface ModelSummary {
  id: string;
  downloads: number;
  likes: number;
  hasSafetensors: boolean;
  hasGguf: boolean;
  pipelineTag?: string;
}

export async function listModels(opts: { query: string; limit?: number; endpoint?: string; token?: string; fetch?: typeof fetch; signal?: AbortSignal }): Promise<ModelSummary[]> {
  const limit = Math.max(1, Math.min(100, opts.limit ?? 20));
  const client = makeClient({ endpoint: opts.endpoint, token: opts.token, fetch: opts.fetch, signal: opts.signal, retries: 2 });
  const found = hubListModels({
    search: { query: opts.query, task: 'text-generation' },
    sort: 'downloads',
    limit: Math.min(500, limit * 3),
    additionalFields: ['tags', 'filePaths'],
    hubUrl: client.endpoint,
    fetch: fetchThrough(client, { repo: `search '${opts.query}'` }),
  });
  const out: ModelSummary[] = [];
  for await (const m of found) {
    const tags = m.tags ?? [];
    const names = m.filePaths ?? [];
    const hasSafetensors = tags.includes('safetensors') || names.some((n) => n.endsWith('.safetensors'));
    const hasGguf = tags.includes('gguf') || names.some((n) => n.endsWith('.gguf'));
    if (m.task && m.task !== 'text-generation') continue;
    if (!hasSafetensors && !hasGguf) continue;
    out.push({ id: m.name, downloads: m.downloads ?? 0, likes: m.likes ?? 0, hasSafetensors, hasGguf, ...(m.task ? { pipelineTag: m.task } : {}) });
    if (out.length === limit) break;
  }
  return out;
}
