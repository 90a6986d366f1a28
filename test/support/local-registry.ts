/**
 * An npm registry on 127.0.0.1 for install tests, so they need neither the network nor a warm npm
 * cache: it serves our packed tarball plus every runtime dependency at the version the lockfile
 * pins, each packed on request from the project's own node_modules (the unpacked registry tarball).
 * Development-only packages (tsx, typescript, assemblyscript, …) are not served at all, so an
 * install that needed one would fail.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';

interface Version { dir?: string; tarball?: string; manifest: Record<string, unknown> }

export interface LocalRegistry {
  url: string;
  /** Package names served (for assertions). */
  names: string[];
  close(): Promise<void>;
}

export async function startLocalRegistry(root: string, ownTarball: string): Promise<LocalRegistry> {
  const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; devOptional?: boolean }> };
  const packages = new Map<string, Map<string, Version>>();
  const add = (v: Version) => {
    const name = String(v.manifest.name);
    if (!packages.has(name)) packages.set(name, new Map());
    packages.get(name)!.set(String(v.manifest.version), v);
  };
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (!key || entry.dev || entry.devOptional) continue;
    const dir = path.join(root, key);
    add({ dir, manifest: JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) });
  }
  const own = JSON.parse(execFileSync('tar', ['-xOzf', ownTarball, 'package/package.json'], { encoding: 'utf8' }));
  add({ tarball: ownTarball, manifest: own });

  const server = createServer((req, res) => {
    const url = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).slice(1);
    const tgz = /^(.+)\/-\/[^/]+-(\d[^/]*)\.tgz$/.exec(url);
    if (tgz) {
      const v = packages.get(tgz[1]!)?.get(tgz[2]!);
      if (!v) return void res.writeHead(404).end();
      // Repacked from the installed folder, with the `package/` prefix npm tarballs have.
      const body = v.tarball ? readFileSync(v.tarball) : execFileSync('tar', ['-czf', '-', '--exclude=./node_modules', '--transform', 's,^\\.,package,', '-C', v.dir!, '.'], { maxBuffer: 1 << 28 });
      return void res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body);
    }
    const versions = packages.get(url);
    if (!versions) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const doc = {
      name: url,
      'dist-tags': { latest: [...versions.keys()].at(-1) },
      versions: Object.fromEntries([...versions].map(([ver, v]) => [ver, { ...v.manifest, dist: { tarball: `${base}/${url}/-/${url.split('/').pop()}-${ver}.tgz` } }])),
    };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/`,
    names: [...packages.keys()],
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
