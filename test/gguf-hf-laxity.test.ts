/**
 * Why formats/gguf/reader.ts parses GGUF headers itself instead of wrapping @huggingface/gguf:
 * on inputs the issue requires us to reject, that library returns a result instead of failing
 * (so no wrapper could turn its failure into our typed error), while our reader gives a
 * FormatError naming the file and offset. The library stays our independent oracle on valid
 * files (test/gguf-roundtrip.test.ts, test/inspect.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gguf } from '@huggingface/gguf';
import { readGguf } from '../formats/gguf/reader.ts';
import { ByteBuilder } from '../formats/gguf/byte-builder.ts';
import { FormatError } from '../formats/errors.ts';

const REFERENCE = join(import.meta.dirname, '..', 'samples', 'stories260K', 'reference-convert-f32.gguf');

function header(kvs: (b: ByteBuilder) => void, nKv: bigint, version = 3): Uint8Array {
  const b = new ByteBuilder();
  b.u32(0x46554747);
  b.u32(version);
  b.u64(0n);
  b.u64(nKv);
  kvs(b);
  return b.result();
}

const kvU32 = (b: ByteBuilder, key: string, v: number) => { b.string(key); b.u32(4); b.u32(v); };

async function compare(name: string, bytes: Uint8Array, ours: RegExp): Promise<{ hfAccepted: boolean }> {
  const dir = mkdtempSync(join(tmpdir(), 'gguf-hf-lax-'));
  try {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    await assert.rejects(readGguf(path), (e: unknown) => e instanceof FormatError && e.message.includes(path) && ours.test(e.message));
    const hfAccepted = await gguf(path, { allowLocalFile: true }).then(() => true, () => false);
    return { hfAccepted };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a duplicate key: @huggingface/gguf keeps one silently, ours names the key and offset', async () => {
  const bytes = header((b) => { kvU32(b, 'llama.block_count', 5); kvU32(b, 'llama.block_count', 6); }, 2n);
  const { hfAccepted } = await compare('dup.gguf', bytes, /duplicate.*llama\.block_count|llama\.block_count.*duplicate/i);
  assert.equal(hfAccepted, true, '@huggingface/gguf accepts a duplicate key');
});

test('a truncated header: @huggingface/gguf zero-fills past the end, ours names the offset', async () => {
  const full = readFileSync(REFERENCE);
  const cut = full.subarray(0, 5000);
  const { hfAccepted } = await compare('cut.gguf', cut, /offset \d+/);
  assert.equal(hfAccepted, true, '@huggingface/gguf returns a result for a file cut inside its header');
});

test('GGUF version 1: @huggingface/gguf parses it, llama.cpp and ours refuse it', async () => {
  const bytes = header((b) => kvU32(b, 'general.alignment', 32), 1n, 1);
  const { hfAccepted } = await compare('v1.gguf', bytes, /version 1/);
  assert.equal(hfAccepted, true, '@huggingface/gguf accepts version 1');
});
