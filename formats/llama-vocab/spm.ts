/**
 * SentencePiece-style tokenization of one text fragment (llama.cpp `llm_tokenizer_spm_session`):
 * start from one symbol per UTF-8 character, repeatedly merge the adjacent pair whose concatenation
 * is the highest-scoring vocab token (leftmost on ties), then emit each final symbol's token, or its
 * bytes as `<0xXX>` byte tokens when the symbol is not in the vocab (byte fallback).
 * The caller has already escaped spaces to U+2581 and added the leading space.
 */
import { Heap } from './heap.ts';
import type { Vocab } from './vocab.ts';

interface Bigram { left: number; right: number; score: number; size: number }

const encoder = new TextEncoder();

/** `llama_vocab::byte_to_token` for SPM: `<0xXX>`, else the byte itself as a one-character token. */
export function spmByteToken(vocab: Vocab, byte: number): number {
  const hex = byte.toString(16).toUpperCase().padStart(2, '0');
  const id = vocab.tokenToId.get(`<0x${hex}>`) ?? (byte < 0x80 ? vocab.tokenToId.get(String.fromCharCode(byte)) : undefined);
  if (id === undefined) throw new RangeError(`vocab has no byte token for 0x${hex}`);
  return id;
}

export function spmTokenize(vocab: Vocab, text: string, out: number[]): void {
  const texts: string[] = [];
  for (const ch of text) texts.push(ch);
  const n = texts.length;
  if (n === 0) return;
  const prev = new Int32Array(n);
  const next = new Int32Array(n);
  const sizes = new Int32Array(n); // UTF-8 bytes, 0 once merged away
  for (let i = 0; i < n; i++) {
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
    const c = texts[i]!.codePointAt(0)!;
    sizes[i] = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
  }
  // llama.cpp's comparator: higher score first, then the smaller left index.
  const queue = new Heap<Bigram>((a, b) => a.score > b.score || (a.score === b.score && a.left < b.left));
  const tryAdd = (left: number, right: number) => {
    if (left === -1 || right === -1) return;
    const id = vocab.tokenToId.get(texts[left]! + texts[right]!);
    if (id === undefined) return;
    queue.push({ left, right, score: vocab.scores[id]!, size: sizes[left]! + sizes[right]! });
  };
  for (let i = 1; i < n; i++) tryAdd(i - 1, i);
  for (let b = queue.pop(); b; b = queue.pop()) {
    // A bigram is stale once either side changed; llama.cpp checks this by byte size.
    if (sizes[b.left] === 0 || sizes[b.right] === 0 || sizes[b.left]! + sizes[b.right]! !== b.size) continue;
    texts[b.left] += texts[b.right]!;
    sizes[b.left] = b.size;
    sizes[b.right] = 0;
    next[b.left] = next[b.right]!;
    if (next[b.right]! >= 0) prev[next[b.right]!] = b.left;
    tryAdd(prev[b.left]!, b.left);
    tryAdd(b.left, next[b.left]!);
  }
  for (let i = 0; i !== -1; i = next[i]!) {
    const id = vocab.tokenToId.get(texts[i]!);
    if (id !== undefined) { out.push(id); continue; }
    // Merged symbols are always tokens, so only single characters reach the byte fallback.
    for (const byte of encoder.encode(texts[i]!)) out.push(spmByteToken(vocab, byte));
  }
}
