import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memorySource, openFileSource, openHttpSource, openSource } from '../formats/io/byte-source.ts';
import { FormatError, IoError, NetworkError } from '../formats/errors.ts';

const BYTES = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff);

test('file source reads exact ranges and refuses reads past the end with a FormatError', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'forge-src-')), 'f.bin');
  writeFileSync(path, BYTES);
  const s = await openSource(path);
  assert.equal(s.name, path);
  assert.equal(await s.size(), 1000);
  assert.deepEqual(await s.read(990, 10), BYTES.subarray(990));
  assert.deepEqual(await s.read(5, 0), new Uint8Array(0));
  await assert.rejects(s.read(995, 10), (e: unknown) => e instanceof FormatError && e.code === 'TRUNCATED' && e.message.includes(path) && /offset 995/.test(e.message));
  await s.close();
  await assert.rejects(openFileSource(path + '.missing'), (e: unknown) => e instanceof IoError && e.code === 'ENOENT');
});

test('memory source behaves the same', async () => {
  const s = memorySource('mem', BYTES);
  assert.deepEqual(await s.read(0, 3), BYTES.subarray(0, 3));
  await assert.rejects(s.read(999, 2), FormatError);
});

test('http source uses Range requests, forwards headers, and reports failures as NetworkError', async () => {
  const seen: string[] = [];
  let ignoreRanges = false;
  const server = createServer((req, res) => {
    seen.push(`${req.headers.range} ${req.headers.authorization}`);
    const m = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? '')!;
    if (ignoreRanges) return res.writeHead(200).end(Buffer.from(BYTES));
    const [a, b] = [Number(m[1]), Math.min(Number(m[2]), BYTES.length - 1)];
    res.writeHead(206, { 'content-range': `bytes ${a}-${b}/${BYTES.length}` }).end(Buffer.from(BYTES.subarray(a, b + 1)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/m.gguf`;
  try {
    const s = await openHttpSource(url, { headers: { Authorization: 'Bearer t' } });
    assert.equal(await s.size(), 1000);
    assert.deepEqual(await s.read(100, 50), BYTES.subarray(100, 150));
    assert.deepEqual(seen, ['bytes=0-0 Bearer t', 'bytes=100-149 Bearer t']);
    await assert.rejects(s.read(990, 20), FormatError);
    ignoreRanges = true;
    await assert.rejects(s.read(0, 10), (e: unknown) => e instanceof NetworkError && e.code === 'NO_RANGE_SUPPORT');
  } finally {
    server.close();
  }
  await assert.rejects(openHttpSource(url), (e: unknown) => e instanceof NetworkError && e.code === 'FETCH_FAILED' && e.message.includes(url));
});

test('http source accepts an injected fetch', async () => {
  const fakeFetch = (async (_url: string, init: RequestInit) => {
    const range = (init.headers as Record<string, string>).Range!;
    const [a, b] = range.slice(6).split('-').map(Number) as [number, number];
    return new Response(BYTES.slice(a, b + 1), { status: 206, headers: { 'content-range': `bytes ${a}-${b}/1000` } });
  }) as unknown as typeof fetch;
  const s = await openHttpSource('https://example.invalid/x.gguf', { fetch: fakeFetch });
  assert.deepEqual(await s.read(7, 3), BYTES.subarray(7, 10));
});
