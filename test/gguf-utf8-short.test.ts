// The header reader's short-string UTF-8 decoder (formats/gguf/header-cursor.ts) must give exactly
// TextDecoder's string, or decline (undefined) so TextDecoder runs: every 1- and 2-byte input,
// every code point, and random byte soup biased towards UTF-8 lead and continuation bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeShortUtf8 } from '../formats/gguf/header-cursor.ts';
import { rng as seeded } from './support/fuzz-mutator.ts';

const td = new TextDecoder('utf-8');
const check = (b: Uint8Array) => {
  const s = decodeShortUtf8(b, 0, b.length);
  if (s !== undefined && s !== td.decode(b)) assert.fail(`bytes ${Buffer.from(b).toString('hex')}: ${JSON.stringify(s)} ≠ ${JSON.stringify(td.decode(b))}`);
  return s !== undefined;
};

test('short UTF-8 strings decode exactly as TextDecoder, or are left to it', () => {
  for (let a = 0; a < 256; a++) {
    check(Uint8Array.of(a));
    for (let b = 0; b < 256; b++) check(Uint8Array.of(a, b));
  }
  let fast = 0;
  for (let cp = 0; cp <= 0x10ffff; cp += cp < 0x3000 ? 1 : 7) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    if (check(new TextEncoder().encode(`a${String.fromCodePoint(cp)}b`))) fast++;
  }
  assert.ok(fast > 150_000, `${fast} code points took the fast path`);
  const rng = seeded(7);
  const pick = [0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe2, 0xed, 0xee, 0xef, 0xf0, 0xf3, 0xf4, 0xf5, 0xff, 0xbb];
  for (let i = 0; i < 200_000; i++) {
    const n = 1 + Math.floor(rng() * 8);
    check(Uint8Array.from({ length: n }, () => pick[Math.floor(rng() * pick.length)]!));
  }
  assert.equal(check(Uint8Array.of(0xef, 0xbb, 0xbf, 0x41)), false, 'a leading BOM goes to TextDecoder (which strips it)');
  assert.equal(decodeShortUtf8(new TextEncoder().encode('▁tok1z'), 0, 8), '▁tok1z');
});
