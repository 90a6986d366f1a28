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
  /** Whether the repo asks users to accept terms before downloading (the Hub's `gated`). */
  gated?: boolean;
  /** Parameter count from the Hub's safetensors index (absent for GGUF-only repos). */
  parameters?: number;
  /** Bytes of the safetensors weights: each dtype's parameter count times its width. */
  weightBytes?: number;
}

/** Bytes per element of the safetensors dtypes the Hub counts parameters by. */
const DTYPE_BYTES: Record<string, number> = { F64: 8, I64: 8, U64: 8, F32: 4, I32: 4, U32: 4, F16: 2, BF16: 2, I16: 2, U16: 2, F8_E4M3: 1, F8_E5M2: 1, I8: 1, U8: 1, BOOL: 1 };

function weightBytes(byDtype: Record<string, number>): number | undefined {
  let total = 0;
  for (const [dtype, n] of Object.entries(byDtype)) {
    const width = DTYPE_BYTES[dtype];
    if (width === undefined) return undefined; // an unknown dtype: no size rather than a wrong one
    total += n * width;
  }
  return total;
}

export async function listModels(opts: { query: string; limit?: number; endpoint?: string; token?: string; fetch?: typeof fetch; signal?: AbortSignal }): Promise<ModelSummary[]> {
  const limit = Math.max(1, Math.min(100, opts.limit ?? 20));
  const client = makeClient({ endpoint: opts.endpoint, token: opts.token, fetch: opts.fetch, signal: opts.signal, retries: 2 });
  const found = hubListModels({
    search: { query: opts.query, task: 'text-generation' },
    sort: 'downloads',
    limit: Math.min(500, limit * 3),
    additionalFields: ['tags', 'filePaths', 'safetensors'],
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
    const st = m.safetensors;
    const bytes = st?.parameters ? weightBytes(st.parameters) : undefined;
    out.push({
      id: m.name, downloads: m.downloads ?? 0, likes: m.likes ?? 0, hasSafetensors, hasGguf, gated: !!m.gated,
      ...(m.task ? { pipelineTag: m.task } : {}),
      ...(typeof st?.total === 'number' ? { parameters: st.total } : {}),
      ...(bytes !== undefined ? { weightBytes: bytes } : {}),
    });
    if (out.length === limit) break;
  }
  return out;
}
