/**
 * Byte-level BPE tokenization of one text fragment (llama.cpp `llm_tokenizer_bpe_session::tokenize`):
 * split into words with the pre-tokenizer regexes, map each word's UTF-8 bytes to GPT-2's printable
 * byte characters, then per word repeatedly merge the adjacent pair with the lowest merge rank
 * (leftmost on ties). A final symbol missing from the vocab falls back to its single-byte tokens.
 */
import { BYTE_TO_CHAR } from '../hf/tokenizer/byte-level.ts';
import { Heap } from './heap.ts';
import { regexSplit } from './regex-split.ts';
import type { Vocab } from './vocab.ts';

interface Bigram { left: number; right: number; text: string; rank: number }

const encoder = new TextEncoder();

function byteEncode(word: string): string {
  let s = '';
  for (const b of encoder.encode(word)) s += BYTE_TO_CHAR[b];
  return s;
}

/** Words are tokenized independently, so their ids can be cached per vocab. */
const caches = new WeakMap<Vocab, Map<string, readonly number[]>>();

export function bpeTokenize(vocab: Vocab, text: string, out: number[]): void {
  let cache = caches.get(vocab);
  if (!cache) caches.set(vocab, (cache = new Map()));
  for (const word of regexSplit(text, vocab.preTokenizer!.regexes)) {
    const encoded = byteEncode(word);
    let ids = cache.get(encoded);
    if (!ids) {
      ids = bpeWord(vocab, encoded);
      if (cache.size > 200_000) cache.clear();
      cache.set(encoded, ids);
    }
    for (const id of ids) out.push(id);
  }
}

function bpeWord(vocab: Vocab, word: string): number[] {
  const whole = vocab.ignoreMerges ? vocab.tokenToId.get(word) : undefined;
  if (whole !== undefined) return [whole];
  const texts: string[] = [];
  for (const ch of word) texts.push(ch);
  const n = texts.length;
  const prev = new Int32Array(n);
  const next = new Int32Array(n);
  for (let i = 0; i < n; i++) { prev[i] = i - 1; next[i] = i + 1 < n ? i + 1 : -1; }
  const gone = new Uint8Array(n);
  // llama.cpp's comparator: lower rank first, then the smaller left index.
  const queue = new Heap<Bigram>((a, b) => a.rank < b.rank || (a.rank === b.rank && a.left < b.left));
  const tryAdd = (left: number, right: number) => {
    if (left === -1 || right === -1) return;
    const rank = vocab.bpeRanks.get(texts[left]! + '\u0000' + texts[right]!);
    if (rank === undefined) return;
    queue.push({ left, right, text: texts[left]! + texts[right]!, rank });
  };
  for (let i = 1; i < n; i++) tryAdd(i - 1, i);
  for (let b = queue.pop(); b; b = queue.pop()) {
    if (gone[b.left] || gone[b.right] || texts[b.left]! + texts[b.right]! !== b.text) continue; // outdated
    texts[b.left] = b.text;
    gone[b.right] = 1;
    next[b.left] = next[b.right]!;
    if (next[b.right]! >= 0) prev[next[b.right]!] = b.left;
    tryAdd(prev[b.left]!, b.left);
    tryAdd(b.left, next[b.left]!);
  }
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    if (gone[i]) continue;
    const id = vocab.tokenToId.get(texts[i]!);
    if (id !== undefined) { ids.push(id); continue; }
    // llama.cpp looks each UTF-8 byte of the symbol up as a one-byte token: only ASCII bytes can match.
    for (const byte of encoder.encode(texts[i]!)) {
      const t = byte < 0x80 ? vocab.tokenToId.get(String.fromCharCode(byte)) : undefined;
      if (t !== undefined) ids.push(t);
    }
  }
  return ids;
}
