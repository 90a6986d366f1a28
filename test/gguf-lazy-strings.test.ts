/**
 * `readGguf(src, { lazyStrings: true })` (what `inspect` reads with): string arrays come back as
 * GgufStringArray, walked for their lengths and decoded on access. Shown on real bytes: the
 * Llama-7B-sized header of the start-up bench and a vocabulary of raw byte strings (ill-formed
 * UTF-8, BOMs, long and empty strings, astral characters) read in small windows (a source without
 * a descriptor) and from a file; every element decoded lazily equals the eager reader's, the
 * inspect report is the same, and a broken array gives the same error at the same offset.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readGguf, type GgufFile, type GgufLazyKv } from '../formats/gguf/reader.ts';
import { GgufStringArray } from '../formats/gguf/string-array.ts';
import { ByteBuilder } from '../formats/gguf/byte-builder.ts';
import { memorySource } from '../formats/io/byte-source.ts';
import { FormatError } from '../formats/errors.ts';
import { GgufValueType as V } from '../formats/gguf/value-types.ts';
import { GgmlTypeId as T } from '../kernels/ggml-types.ts';
import { buildInspectReport } from '../src/inspect/report.ts';
import { writeLlama7bHeader } from './bench/startup.bench.ts';

const dir = mkdtempSync(join(tmpdir(), 'gguf-forge-lazy-strings-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Eager and lazy reads of the same header agree: every string, every other value, the tensors. */
function assertSameHeader(eager: GgufFile, lazy: GgufFile<GgufLazyKv>): number {
  assert.equal(lazy.kvs.length, eager.kvs.length);
  let checked = 0;
  for (const [i, kv] of eager.kvs.entries()) {
    const l = lazy.kvs[i]!;
    assert.equal(l.key, kv.key);
    if (kv.type === V.ARRAY && kv.elemType === V.STRING) {
      assert.ok(l.value instanceof GgufStringArray, `${kv.key} is lazy`);
      const strings = kv.value as readonly string[];
      assert.equal(l.value.length, strings.length);
      for (let j = 0; j < strings.length; j++) if (l.value.at(j) !== strings[j]) assert.fail(`${kv.key}[${j}]: lazy ${JSON.stringify(l.value.at(j))} != eager ${JSON.stringify(strings[j])}`);
      assert.deepEqual(l.value.toArray(), strings);
      assert.deepEqual([...l.value], strings);
      checked += strings.length;
    } else {
      assert.deepEqual(l, kv, kv.key);
    }
  }
  assert.deepEqual(lazy.tensors, eager.tensors);
  assert.deepEqual({ ...lazy, kvs: [] }, { ...eager, kvs: [] });
  return checked;
}

test('the 7B-sized header (32k tokens, 291 tensors): every token decoded lazily equals the eager decode; same inspect report', async () => {
  const path = join(dir, 'llama-7b.gguf');
  await writeLlama7bHeader(path);
  const eager = await readGguf(path);
  const lazy = await readGguf(path, { lazyStrings: true });
  assert.equal(assertSameHeader(eager, lazy), 32000);
  assert.equal(lazy.tensors.length, 291);
  assert.deepEqual(buildInspectReport(lazy), buildInspectReport(eager));
  assert.deepEqual(buildInspectReport(lazy, { fullArrays: true }), buildInspectReport(eager, { fullArrays: true }));
});

/** A tiny pseudo-random generator, so the byte strings are the same on every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** Raw byte strings of every kind the decoder treats differently. */
function byteStrings(n: number): Uint8Array[] {
  const r = rng(7);
  const enc = new TextEncoder();
  const fixed = [
    new Uint8Array(0),
    enc.encode('▁the'),
    Uint8Array.of(0xef, 0xbb, 0xbf, 0x61), // leading BOM: TextDecoder strips it
    Uint8Array.of(0x61, 0xef, 0xbb, 0xbf), // BOM not at the start: kept
    Uint8Array.of(0xff, 0xfe, 0x80), // ill-formed
    Uint8Array.of(0xe2, 0x96), // truncated sequence
    Uint8Array.of(0xed, 0xa0, 0x80), // surrogate code point
    enc.encode('🦙🦙'),
    enc.encode('x'.repeat(47) + 'é'), // straddles the short-string limit
    enc.encode('long '.repeat(40)),
  ];
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    if (i < fixed.length * 50 && i % 50 === 0) { out.push(fixed[i / 50]!); continue; }
    const len = r() < 0.02 ? 49 + Math.floor(r() * 200) : Math.floor(r() * 12);
    out.push(Uint8Array.from({ length: len }, () => (r() < 0.7 ? 0x20 + Math.floor(r() * 0x5f) : Math.floor(r() * 256))));
  }
  return out;
}

/** A GGUF with a raw-bytes string array between other keys, and one tensor. */
function vocabGguf(strings: Uint8Array[], opts: { badLengthAt?: number } = {}): Uint8Array {
  const b = new ByteBuilder();
  b.u32(0x46554747);
  b.u32(3);
  b.u64(1n);
  b.u64(3n);
  b.string('general.architecture'); b.u32(V.STRING); b.string('llama');
  b.string('tokenizer.ggml.tokens'); b.u32(V.ARRAY); b.u32(V.STRING); b.u64(BigInt(strings.length));
  for (const [i, s] of strings.entries()) {
    b.u64(i === opts.badLengthAt ? 1n << 40n : BigInt(s.length));
    b.bytes(s);
  }
  b.string('tokenizer.ggml.merges'); b.u32(V.ARRAY); b.u32(V.STRING); b.u64(2n); b.string('a b'); b.string('ab c');
  b.string('t'); b.u32(2); b.u64(32n); b.u64(2n); b.u32(T.F32); b.u64(0n);
  b.zeros((32 - (b.length % 32)) % 32);
  b.zeros(256);
  return b.result().slice();
}

test('raw byte strings (ill-formed UTF-8, BOMs, long, empty, astral) in small windows and from a file: lazy equals eager', async () => {
  const bytes = vocabGguf(byteStrings(30000));
  assert.ok(bytes.length > 4 * (64 << 10), 'the array spans several 64 KiB windows');
  // memorySource has no descriptor: 64 KiB first window, doubling, so the array crosses window reads.
  const eager = await readGguf(memorySource('vocab.gguf', bytes));
  const lazy = await readGguf(memorySource('vocab.gguf', bytes), { lazyStrings: true });
  assert.equal(assertSameHeader(eager, lazy), 30002);
  const path = join(dir, 'vocab.gguf');
  writeFileSync(path, bytes);
  assert.equal(assertSameHeader(await readGguf(path), await readGguf(path, { lazyStrings: true })), 30002);
  assert.deepEqual(buildInspectReport(lazy, { fullArrays: true }), buildInspectReport(eager, { fullArrays: true }));
});

test('GgufStringArray bounds: at() outside the array is undefined, slice clamps like Array.prototype.slice', async () => {
  const lazy = await readGguf(memorySource('v.gguf', vocabGguf(byteStrings(20))), { lazyStrings: true });
  const tokens = lazy.kvs[1]!.value as GgufStringArray;
  assert.equal(tokens.at(-1), undefined);
  assert.equal(tokens.at(20), undefined);
  assert.equal(tokens.at(1.5), undefined);
  assert.deepEqual(tokens.slice(18, 99), tokens.toArray().slice(18, 99));
  assert.deepEqual(tokens.slice(0, 8), tokens.toArray().slice(0, 8));
  assert.deepEqual(tokens.slice(5, 2), []);
});

async function errorOf(p: Promise<unknown>): Promise<FormatError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof FormatError, String(e));
    return e;
  }
  assert.fail('expected a FormatError');
}

test('a broken string array gives the same error, code and offset, read lazily or eagerly', async () => {
  const strings = byteStrings(200);
  const bad = vocabGguf(strings, { badLengthAt: 137 });
  const [e1, l1] = [await errorOf(readGguf(memorySource('bad.gguf', bad))), await errorOf(readGguf(memorySource('bad.gguf', bad), { lazyStrings: true }))];
  assert.equal(e1.code, 'BAD_LENGTH');
  assert.match(e1.message, /tokenizer\.ggml\.tokens'\[137\]/);
  assert.deepEqual([l1.code, l1.message, l1.context], [e1.code, e1.message, e1.context]);
  // Every cut through the array and what follows it.
  const full = vocabGguf(strings);
  const start = 60;
  for (let len = start; len < full.length - 300; len += 7) {
    const cut = full.subarray(0, len);
    const e = await errorOf(readGguf(memorySource('cut.gguf', cut)));
    const l = await errorOf(readGguf(memorySource('cut.gguf', cut), { lazyStrings: true }));
    assert.deepEqual([l.code, l.message, l.context], [e.code, e.message, e.context], `cut at ${len}`);
  }
});
