/**
 * A real HTTP server on 127.0.0.1 (port 0) that speaks the parts of the Hugging Face Hub API that
 * our hub client and @huggingface/hub call, serving real bytes, with fault injection:
 *   GET  /api/models/{repo}/revision/{rev}       → { id, sha, siblings }
 *   GET  /api/models/{repo}/tree/{rev}[/{dir}]   → entries, paginated with Link: rel="next"
 *   POST /api/models/{repo}/paths-info/{rev}     → entries for the given paths
 *   GET/HEAD /{repo}/resolve/{rev}/{path}        → small files inline (ETag = git blob sha1);
 *                                                  LFS files 302 → /cdn/{sha256} (X-Linked-Etag/Size)
 *   GET  /api/models?search=                      → model summaries
 * Faults (keyed by the repo file path): cut the connection after N body bytes, stall after N
 * bytes, corrupt one byte,
 * answer an HTTP status N times, ignore Range; and counters of body bytes sent per file.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export interface TreeEntry {
  type: 'file' | 'directory';
  path: string;
  oid: string;
  size: number;
  lfs?: { oid: string; size: number; pointerSize: number };
}

export interface MockRepoOptions {
  /** Branch and tag names → this commit (default: { main }). */
  refs?: string[];
  /** Requests must carry `Authorization: Bearer <gatedToken>`, else 401 GatedRepo. */
  gatedToken?: string;
  /** Which files are LFS (default: *.safetensors, *.gguf, *.bin, *.model, and anything ≥ 10 kB). */
  isLfs?: (path: string, size: number) => boolean;
  /** Tree page size (Link pagination). */
  pageSize?: number;
  /** Rewrite the tree listing (e.g. to inject a hostile path). */
  mapTree?: (entries: TreeEntry[]) => TreeEntry[];
}

interface MockRepo {
  id: string;
  commit: string;
  files: Map<string, Buffer>;
  refs: Set<string>;
  opts: MockRepoOptions;
}

export interface SearchModel {
  id: string;
  downloads: number;
  likes: number;
  pipeline_tag?: string;
  tags: string[];
  siblings?: { rfilename: string }[];
  /** As the Hub's search answers them (sent when asked for, and here always). */
  gated?: false | 'auto' | 'manual';
  safetensors?: { parameters: Record<string, number>; total: number };
}

export interface RequestLog {
  method: string;
  url: string;
  range?: string;
  authorized: boolean;
}

const gitSha1 = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const defaultLfs = (p: string, size: number) => /\.(safetensors|gguf|bin|model|pt|onnx)$/.test(p) || size >= 10_000;

export class MockHub {
  readonly repos = new Map<string, MockRepo>();
  readonly models: SearchModel[] = [];
  readonly faults = {
    /** Cut the connection after this many body bytes, once. */
    cutAfter: new Map<string, number>(),
    /** Send this many body bytes, then go silent with the connection open, once. */
    stallAfter: new Map<string, number>(),
    /** Flip one byte in the middle of the file whenever it is served. */
    corrupt: new Set<string>(),
    /** Answer this status for the next `times` requests (key: file path, or 'revision' / 'tree'). */
    status: new Map<string, { status: number; times: number }>(),
    /** Answer 200 with the whole file even when a Range is asked for. */
    ignoreRange: new Set<string>(),
    /** Send the body at about this many bytes per second (so a progress bar can be watched). */
    slow: new Map<string, number>(),
  };
  readonly stats = {
    bytesSent: new Map<string, number>(),
    requests: [] as RequestLog[],
  };
  url = '';
  private server: http.Server;

  private constructor() {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err) => {
        if (!res.headersSent) res.writeHead(500).end(String(err));
        else res.destroy();
      });
    });
  }

  static async start(): Promise<MockHub> {
    const hub = new MockHub();
    await new Promise<void>((resolve) => hub.server.listen(0, '127.0.0.1', resolve));
    hub.url = `http://127.0.0.1:${(hub.server.address() as AddressInfo).port}`;
    return hub;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  addRepo(id: string, files: Record<string, Buffer | string>, opts: MockRepoOptions = {}): { commit: string; files: Map<string, Buffer> } {
    const map = new Map(Object.entries(files).map(([p, b]) => [p, Buffer.isBuffer(b) ? b : Buffer.from(b)]));
    const h = createHash('sha1').update(id);
    for (const [p, b] of [...map].sort()) h.update(p).update(gitSha1(b));
    const commit = h.digest('hex');
    this.repos.set(id, { id, commit, files: map, refs: new Set(opts.refs ?? ['main']), opts });
    return { commit, files: map };
  }

  bytesSent(file: string): number {
    return this.stats.bytesSent.get(file) ?? 0;
  }

  totalBytesSent(): number {
    let n = 0;
    for (const v of this.stats.bytesSent.values()) n += v;
    return n;
  }

  /** The tree entry the real Hub would list for a file. */
  entry(repo: MockRepo, p: string): TreeEntry {
    const b = repo.files.get(p)!;
    const lfs = (repo.opts.isLfs ?? defaultLfs)(p, b.length);
    return {
      type: 'file',
      path: p,
      oid: gitSha1(lfs ? Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(b)}\nsize ${b.length}\n`) : b),
      size: b.length,
      ...(lfs ? { lfs: { oid: sha256(b), size: b.length, pointerSize: 134 } } : {}),
    };
  }

  private tree(repo: MockRepo): TreeEntry[] {
    const dirs = new Set<string>();
    const entries: TreeEntry[] = [];
    for (const p of [...repo.files.keys()].sort()) {
      const parts = p.split('/');
      for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
      entries.push(this.entry(repo, p));
    }
    for (const d of dirs) entries.push({ type: 'directory', path: d, oid: gitSha1(Buffer.from(d)), size: 0 });
    return repo.opts.mapTree ? repo.opts.mapTree(entries) : entries;
  }

  private takeFault(key: string): number | undefined {
    const f = this.faults.status.get(key);
    if (!f || f.times <= 0) return undefined;
    f.times--;
    return f.status;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const auth = req.headers.authorization;
    this.stats.requests.push({ method: req.method ?? 'GET', url: url.pathname + url.search, range: req.headers.range, authorized: !!auth });
    const segs = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const fail = (status: number, code?: string) => {
      res.writeHead(status, code ? { 'x-error-code': code, 'content-type': 'application/json' } : {});
      res.end(JSON.stringify({ error: code ?? `HTTP ${status}` }));
    };

    if (segs[0] === 'api' && segs[1] === 'models' && segs.length === 2) return this.search(url, res);
    if (segs[0] === 'cdn') return this.serveCdn(req, res, segs[1], url.searchParams.get('file') ?? '');

    const api = segs[0] === 'api' && segs[1] === 'models';
    const base = api ? 2 : 0;
    const repo = this.repos.get(`${segs[base]}/${segs[base + 1]}`);
    if (!repo) return fail(auth ? 404 : 401, 'RepoNotFound');
    if (repo.opts.gatedToken && auth !== `Bearer ${repo.opts.gatedToken}`) return fail(401, 'GatedRepo');
    const action = segs[base + 2];
    // "HEAD" is what @huggingface/hub asks for when no revision is given: the default branch.
    const rev = segs[base + 3] === 'HEAD' ? 'main' : segs[base + 3];
    if (rev === undefined) return fail(404);
    const injected = this.takeFault(api ? action : segs.slice(base + 4).join('/'));
    if (injected) return fail(injected);
    if (rev !== repo.commit && !repo.refs.has(rev)) return fail(404, 'RevisionNotFound');
    const rest = segs.slice(base + 4).join('/');

    if (api && action === 'revision') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: repo.id, sha: repo.commit, private: false, gated: repo.opts.gatedToken ? 'manual' : false, siblings: [...repo.files.keys()].map((rfilename) => ({ rfilename })) }));
      return;
    }
    if (api && action === 'tree') {
      const recursive = ['true', '1'].includes(url.searchParams.get('recursive') ?? '');
      const all = this.tree(repo).filter((e) => {
        const parent = e.path.includes('/') ? e.path.slice(0, e.path.lastIndexOf('/')) : '';
        return recursive ? rest === '' || e.path.startsWith(rest + '/') : parent === rest;
      });
      const pageSize = repo.opts.pageSize ?? 1000;
      const cursor = Number(url.searchParams.get('cursor') ?? 0);
      const page = all.slice(cursor, cursor + pageSize);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (cursor + pageSize < all.length) {
        const next = new URL(url);
        next.searchParams.set('cursor', String(cursor + pageSize));
        headers.link = `<${next.href}>; rel="next"`;
      }
      res.writeHead(200, headers).end(JSON.stringify(page));
      return;
    }
    if (api && action === 'paths-info' && req.method === 'POST') {
      const body = await readBody(req);
      const type = req.headers['content-type'] ?? '';
      const paths: string[] = type.includes('json') ? (JSON.parse(body).paths ?? []) : new URLSearchParams(body).getAll('paths');
      const tree = this.tree(repo);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(tree.filter((e) => paths.includes(e.path))));
      return;
    }
    if (!api && action === 'resolve') {
      const content = repo.files.get(rest);
      if (!content) return fail(404, 'EntryNotFound');
      const e = this.entry(repo, rest);
      const headers: Record<string, string> = { 'x-repo-commit': repo.commit };
      if (e.lfs) {
        headers['x-linked-etag'] = `"${e.lfs.oid}"`;
        headers['x-linked-size'] = String(e.lfs.size);
        headers.etag = `"${e.oid}"`;
        headers.location = `/cdn/${e.lfs.oid}?file=${encodeURIComponent(rest)}&repo=${encodeURIComponent(repo.id)}`;
        res.writeHead(302, headers).end();
        return;
      }
      headers.etag = `"${e.oid}"`;
      return this.serveBytes(req, res, rest, content, headers);
    }
    return fail(404);
  }

  private serveCdn(req: http.IncomingMessage, res: http.ServerResponse, oid: string, file: string): void {
    const repo = [...this.repos.values()].find((r) => r.files.has(file) && sha256(r.files.get(file)!) === oid);
    if (!repo) {
      res.writeHead(404).end();
      return;
    }
    this.serveBytes(req, res, file, repo.files.get(file)!, { etag: `"${oid}"` });
  }

  private serveBytes(req: http.IncomingMessage, res: http.ServerResponse, key: string, content: Buffer, headers: Record<string, string>): void {
    let body = content;
    if (this.faults.corrupt.has(key)) {
      body = Buffer.from(content);
      body[body.length >> 1] ^= 0xff;
    }
    let start = 0;
    let end = body.length - 1;
    let status = 200;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range && !this.faults.ignoreRange.has(key)) {
      start = Number(range[1]);
      if (range[2]) end = Math.min(end, Number(range[2]));
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      status = 206;
      headers['content-range'] = `bytes ${start}-${end}/${body.length}`;
    }
    const slice = body.subarray(start, end + 1);
    headers['content-length'] = String(slice.length);
    headers['accept-ranges'] = 'bytes';
    res.writeHead(status, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const cut = this.faults.cutAfter.get(key);
    if (cut !== undefined && cut < slice.length) {
      this.faults.cutAfter.delete(key);
      const part = slice.subarray(0, cut);
      this.count(key, part.length);
      res.write(part, () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    const stall = this.faults.stallAfter.get(key);
    if (stall !== undefined && stall < slice.length) {
      this.faults.stallAfter.delete(key);
      this.count(key, stall);
      res.write(slice.subarray(0, stall));
      return; // never ends; close() drops the connection
    }
    const rate = this.faults.slow.get(key);
    if (rate !== undefined) {
      this.count(key, slice.length);
      const chunk = 32 * 1024;
      let at = 0;
      const next = () => {
        if (res.destroyed) return;
        if (at >= slice.length) return void res.end();
        res.write(slice.subarray(at, at + chunk));
        at += chunk;
        setTimeout(next, (1000 * chunk) / rate);
      };
      next();
      return;
    }
    this.count(key, slice.length);
    res.end(slice);
  }

  private count(key: string, n: number): void {
    this.stats.bytesSent.set(key, this.bytesSent(key) + n);
  }

  private search(url: URL, res: http.ServerResponse): void {
    const q = (url.searchParams.get('search') ?? '').toLowerCase();
    const task = url.searchParams.get('pipeline_tag');
    const limit = Number(url.searchParams.get('limit') ?? 1000);
    const found = this.models.filter((m) => m.id.toLowerCase().includes(q) && (!task || m.pipeline_tag === task));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(found.slice(0, limit).map((m) => ({ _id: 'x' + m.id, modelId: m.id, ...m }))));
  }
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The real tiny model's files, as a repo's contents. */
export async function sampleModelFiles(dir: string): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer> = {};
  for (const name of await fs.promises.readdir(dir)) out[name] = await fs.promises.readFile(path.join(dir, name));
  return out;
}

const tempDirs: string[] = [];
/** A fresh temp folder (cache, output) removed when the test process exits. */
export function tempDir(prefix: string): string {
  if (tempDirs.length === 0) {
    process.on('exit', () => {
      for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
    });
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}
