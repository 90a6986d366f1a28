/**
 * Hub settings from the environment, with the same names and precedence as Python's
 * huggingface_hub so a cache and a login are shared between the two tools.
 */
import os from 'node:os';
import path from 'node:path';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

export function hubEndpoint(explicit?: string, env = process.env): string {
  return (explicit || env.HF_ENDPOINT || DEFAULT_ENDPOINT).replace(/\/+$/, '');
}

/** `--token` wins over HF_TOKEN (and the older HUGGING_FACE_HUB_TOKEN). Never logged. */
export function hubToken(explicit?: string, env = process.env): string | undefined {
  return explicit || env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN || undefined;
}

/** HF_HUB_CACHE, else HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub. */
export function hubCacheDir(explicit?: string, env = process.env): string {
  if (explicit) return path.resolve(explicit);
  if (env.HF_HUB_CACHE) return path.resolve(env.HF_HUB_CACHE);
  if (env.HUGGINGFACE_HUB_CACHE) return path.resolve(env.HUGGINGFACE_HUB_CACHE);
  const home = env.HF_HOME || path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'huggingface');
  return path.resolve(home, 'hub');
}

/**
 * Seconds to wait for the Hub to answer a metadata request (revision, file list, a header read):
 * HF_HUB_ETAG_TIMEOUT, as in huggingface_hub, default 10. Downloads have their own stall timeout.
 */
export function hubAnswerTimeoutMs(env = process.env): number {
  const s = Number(env.HF_HUB_ETAG_TIMEOUT);
  return (Number.isFinite(s) && s > 0 ? s : 10) * 1000;
}

/** HF_HUB_OFFLINE accepts the same truthy spellings as huggingface_hub. */
export function hubOffline(explicit?: boolean, env = process.env): boolean {
  if (explicit !== undefined) return explicit;
  return ['1', 'ON', 'YES', 'TRUE'].includes((env.HF_HUB_OFFLINE ?? '').toUpperCase());
}
