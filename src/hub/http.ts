/**
 * One place for every request to the Hub: the auth header, retries with exponential backoff on
 * 5xx / 429 / dropped connections, and the mapping of HTTP failures to NetworkError messages that
 * name the repo and file. The token only ever goes into the Authorization header: no message,
 * event or log line is built from headers.
 */
import { CancelledError, ForgeError, NetworkError } from '../../formats/errors.ts';
import { hubAnswerTimeoutMs, hubEndpoint, hubToken } from './env.ts';

export interface HubClient {
  endpoint: string;
  token?: string;
  fetch: typeof fetch;
  /** Extra attempts after the first on a retryable failure. */
  retries: number;
  /** First backoff delay; doubles each attempt (capped at 10 s). */
  retryDelayMs: number;
  /** A download that receives no bytes for this long is dropped and resumed (default 60 s). */
  stallTimeoutMs: number;
  /** A request whose response headers do not arrive within this long fails with a TIMEOUT (default HF_HUB_ETAG_TIMEOUT or 10 s). */
  answerTimeoutMs: number;
  signal?: AbortSignal;
}

/** What a request is about, so errors can name it. */
export interface RequestSubject {
  repo: string;
  revision?: string;
  file?: string;
}

/**
 * A client from explicit options, falling back to HF_ENDPOINT / HF_TOKEN for endpoint and token.
 * Callers pass their own option bags: only the HubClient fields are read.
 */
export function makeClient(o: Partial<HubClient>): HubClient {
  return {
    endpoint: hubEndpoint(o.endpoint),
    token: hubToken(o.token),
    fetch: o.fetch ?? globalThis.fetch,
    retries: o.retries ?? 5,
    retryDelayMs: o.retryDelayMs ?? 500,
    stallTimeoutMs: o.stallTimeoutMs ?? 60_000,
    answerTimeoutMs: o.answerTimeoutMs ?? hubAnswerTimeoutMs(),
    signal: o.signal,
  };
}

export function authHeaders(client: HubClient, extra: Record<string, string> = {}): Record<string, string> {
  return client.token ? { ...extra, authorization: `Bearer ${client.token}` } : extra;
}

export function describe(s: RequestSubject): string {
  const at = s.revision ? `${s.repo}@${s.revision}` : s.repo;
  return s.file ? `${at}: ${s.file}` : at;
}

/** Failures worth another attempt: the server or the connection, not the request. */
export function isRetryable(err: unknown): boolean {
  return err instanceof NetworkError && (err.code === 'HTTP_5XX' || err.code === 'CONNECTION' || err.code === 'HTTP_429');
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new CancelledError('download cancelled');
}

export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  await new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
  throwIfAborted(signal);
}

export function backoffMs(client: HubClient, attempt: number): number {
  return Math.min(10_000, client.retryDelayMs * 2 ** attempt);
}

/**
 * Runs `attempt` until it succeeds, fails with a non-retryable error, or runs out of retries;
 * `onRetry` hears of each retry (1-based) before its backoff, so a user can be told.
 */
export async function withRetries<T>(client: HubClient, attempt: (n: number) => Promise<T>, onRetry?: (retry: number, delayMs: number, err: unknown) => void): Promise<T> {
  for (let n = 0; ; n++) {
    throwIfAborted(client.signal);
    try {
      return await attempt(n);
    } catch (err) {
      if (!isRetryable(err) || n >= client.retries) throw err;
      onRetry?.(n + 1, backoffMs(client, n), err);
      await sleep(backoffMs(client, n), client.signal);
    }
  }
}

/** Name lookups that fail when there is no network: retrying them only delays the message. */
const NO_NETWORK = new Set(['ENOTFOUND', 'EAI_AGAIN']);

/** A fetch failure (reset, refused, body cut) as a retryable NetworkError, or a CancelledError. */
export function connectionError(err: unknown, s: RequestSubject, signal?: AbortSignal): ForgeError {
  if (err instanceof ForgeError) return err;
  if (signal?.aborted || (err as Error)?.name === 'AbortError') return new CancelledError('download cancelled');
  const cause = (err as { cause?: { code?: string; message?: string; hostname?: string } })?.cause;
  const why = cause?.code ?? cause?.message ?? (err as Error)?.message ?? String(err);
  if (cause?.code && NO_NETWORK.has(cause.code)) {
    return new NetworkError('NO_NETWORK', `${describe(s)}: cannot reach the Hub: ${cause.hostname ?? 'its host name'} does not resolve (${why}); check the network, or pass --offline to use the HF cache`, { repo: s.repo, file: s.file }, { cause: err });
  }
  return new NetworkError('CONNECTION', `${describe(s)}: connection to the Hub failed (${why})`, { repo: s.repo, file: s.file }, { cause: err });
}

/**
 * `client.fetch` with the answer timeout: if no response headers arrive in time the request is
 * aborted and fails with a TIMEOUT naming the host (not retried: a silent server would otherwise
 * cost the timeout once per retry). The body, once headers are in, is not limited.
 */
export async function fetchWithTimeout(client: HubClient, url: string, init: RequestInit, s: RequestSubject): Promise<Response> {
  const controller = new AbortController();
  const onAbort = () => controller.abort(client.signal?.reason);
  client.signal?.addEventListener('abort', onAbort, { once: true });
  if (client.signal?.aborted) onAbort();
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; controller.abort(); }, client.answerTimeoutMs);
  try {
    return await client.fetch(url, { ...init, signal: controller.signal });
  } catch (err) {
    if (timedOut) {
      const host = new URL(url).origin;
      throw new NetworkError('TIMEOUT', `${describe(s)}: no answer from ${host} within ${client.answerTimeoutMs / 1000} s; check the network or the endpoint (HF_ENDPOINT), or pass --offline to use the HF cache (HF_HUB_ETAG_TIMEOUT sets the wait)`, { repo: s.repo, file: s.file }, { cause: err });
    }
    throw connectionError(err, s, client.signal);
  } finally {
    clearTimeout(timer);
    client.signal?.removeEventListener('abort', onAbort);
  }
}

/** Turns a non-OK response into the right NetworkError (its body is drained so the socket is freed). */
export async function httpError(res: Response, s: RequestSubject): Promise<NetworkError> {
  const code = res.headers.get('x-error-code') ?? '';
  const serverMessage = (res.headers.get('x-error-message') ?? '').slice(0, 200);
  await res.body?.cancel().catch(() => {});
  const ctx = { repo: s.repo, file: s.file, status: res.status };
  const where = describe(s);
  if (code === 'RepoNotFound' || (res.status === 404 && !s.file && !s.revision)) {
    return new NetworkError('REPO_NOT_FOUND', `repository ${s.repo} not found on the Hub (HTTP ${res.status}); if it is private, pass --token or set HF_TOKEN`, ctx);
  }
  if (code === 'RevisionNotFound') {
    return new NetworkError('REVISION_NOT_FOUND', `revision '${s.revision}' not found in ${s.repo} (HTTP ${res.status})`, ctx);
  }
  if (code === 'EntryNotFound' || (res.status === 404 && s.file)) {
    return new NetworkError('FILE_NOT_FOUND', `file ${s.file} not found in ${s.repo}${s.revision ? '@' + s.revision : ''} (HTTP ${res.status})`, ctx);
  }
  if (res.status === 404) {
    return new NetworkError('NOT_FOUND', `${where}: not found on the Hub (HTTP 404)`, ctx);
  }
  if (code === 'GatedRepo' || res.status === 401 || res.status === 403) {
    return new NetworkError('UNAUTHORIZED', `${where}: access denied (HTTP ${res.status}); the repo is gated or private: accept its terms on the Hub and pass --token or set HF_TOKEN${serverMessage ? ` (${serverMessage})` : ''}`, ctx);
  }
  if (res.status === 429) return new NetworkError('HTTP_429', `${where}: rate limited by the Hub (HTTP 429)`, ctx);
  if (res.status >= 500) return new NetworkError('HTTP_5XX', `${where}: the Hub answered HTTP ${res.status}`, ctx);
  return new NetworkError('HTTP_ERROR', `${where}: unexpected HTTP ${res.status}`, ctx);
}

/** GET (or other) with auth and retries; returns an OK response or throws a NetworkError. */
export async function hubFetch(client: HubClient, url: string, s: RequestSubject, init: RequestInit = {}): Promise<Response> {
  return withRetries(client, async () => {
    const res = await fetchWithTimeout(client, url, { ...init, headers: authHeaders(client, init.headers as Record<string, string>) }, s);
    if (!res.ok) throw await httpError(res, s);
    return res;
  });
}

/**
 * A `fetch` for @huggingface/hub's functions (listFiles, listModels) that goes through hubFetch:
 * our auth header, retries and typed errors naming the repo, and no request to another origin
 * (a pagination link elsewhere would otherwise carry the token there).
 */
export function fetchThrough(client: HubClient, s: RequestSubject): typeof fetch {
  const origin = new URL(client.endpoint).origin;
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.origin !== origin) throw new NetworkError('BAD_RESPONSE', `${describe(s)}: the Hub pointed to another host (${url.origin})`, { repo: s.repo });
    return hubFetch(client, url.href, s, init ?? {});
  }) as typeof fetch;
}

export async function hubJson<T>(client: HubClient, url: string, s: RequestSubject, init: RequestInit = {}): Promise<{ body: T; res: Response }> {
  const res = await hubFetch(client, url, s, { ...init, headers: { accept: 'application/json', ...(init.headers as Record<string, string>) } });
  try {
    return { body: (await res.json()) as T, res };
  } catch (err) {
    throw new NetworkError('BAD_RESPONSE', `${describe(s)}: the Hub sent an unreadable JSON answer`, { repo: s.repo }, { cause: err });
  }
}

/** Path segments URL-encoded one by one so "/" stays a separator. */
export function encodePath(p: string): string {
  return p.split('/').map(encodeURIComponent).join('/');
}
