/**
 * Hub model search for the TUI's picker: text-generation models that ship weights we can read
 * (safetensors to convert, or GGUF to inspect). The Hub tags such repos "safetensors" / "gguf";
 * the file list is the fallback when tags are missing. Results are filtered client-side (the API
 * cannot OR two tags), so a few more are fetched than asked for.
 */
import { NetworkError } from '../../formats/errors.ts';
import { hubJson, makeClient } from './http.ts';

export interface ModelSummary {
  id: string;
  downloads: number;
  likes: number;
  hasSafetensors: boolean;
  hasGguf: boolean;
  pipelineTag?: string;
}

interface ApiModel {
  id?: string;
  modelId?: string;
  downloads?: number;
  likes?: number;
  tags?: string[];
  pipeline_tag?: string;
  siblings?: { rfilename: string }[];
}

export async function listModels(opts: { query: string; limit?: number; endpoint?: string; token?: string; fetch?: typeof fetch; signal?: AbortSignal }): Promise<ModelSummary[]> {
  const limit = Math.max(1, Math.min(100, opts.limit ?? 20));
  const client = makeClient({ endpoint: opts.endpoint, token: opts.token, fetch: opts.fetch, signal: opts.signal, retries: 2 });
  const params = new URLSearchParams({ search: opts.query, pipeline_tag: 'text-generation', limit: String(Math.min(500, limit * 3)), sort: 'downloads', direction: '-1' });
  for (const key of ['downloads', 'likes', 'tags', 'pipeline_tag', 'siblings']) params.append('expand', key);
  const { body } = await hubJson<ApiModel[]>(client, `${client.endpoint}/api/models?${params}`, { repo: `search '${opts.query}'` });
  if (!Array.isArray(body)) throw new NetworkError('BAD_RESPONSE', `model search '${opts.query}': the Hub's answer is not a list`);
  const out: ModelSummary[] = [];
  for (const m of body) {
    const id = m.id ?? m.modelId;
    if (!id) continue;
    const tags = m.tags ?? [];
    const names = (m.siblings ?? []).map((s) => s.rfilename);
    const hasSafetensors = tags.includes('safetensors') || names.some((n) => n.endsWith('.safetensors'));
    const hasGguf = tags.includes('gguf') || names.some((n) => n.endsWith('.gguf'));
    if (m.pipeline_tag && m.pipeline_tag !== 'text-generation') continue;
    if (!hasSafetensors && !hasGguf) continue;
    out.push({ id, downloads: m.downloads ?? 0, likes: m.likes ?? 0, hasSafetensors, hasGguf, ...(m.pipeline_tag ? { pipelineTag: m.pipeline_tag } : {}) });
    if (out.length === limit) break;
  }
  return out;
}
