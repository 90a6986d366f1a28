/**
 * Token ids back to text: `llama_vocab::impl::token_to_piece` (bytes of one token) and
 * `llama_vocab::impl::detokenize` (a sequence, with the leading-space removal and, for BPE vocabs
 * that ask for it, the clean_spaces passes). Pieces are bytes: an SPM byte token or a BPE token can
 * hold part of a UTF-8 character, so text is only decoded once the bytes are joined.
 */
import { BYTE_TO_CHAR } from '../hf/tokenizer/byte-level.ts';
import { ATTR } from './token-attrs.ts';
import type { Vocab } from './vocab.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { ignoreBOM: true }); // a leading U+FEFF is text here
const CHAR_TO_BYTE = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

/** `llama_decode_text`: GPT-2 byte characters back to bytes; unknown characters are spelled out. */
function decodeByteLevel(text: string): Uint8Array {
  const out: number[] = [];
  for (const ch of text) {
    const b = CHAR_TO_BYTE.get(ch);
    if (b !== undefined) { out.push(b); continue; }
    const utf8 = encoder.encode(ch);
    const hex = [...utf8].map((x) => x.toString(16).padStart(2, '0')).join('');
    out.push(...encoder.encode(`[UNK_BYTE_0x${hex}${text}]`));
  }
  return Uint8Array.from(out);
}

function byteOfToken(text: string): number {
  return parseInt(text.slice(3, 5), 16);
}

export interface PieceOptions {
  /** Render CONTROL/UNKNOWN tokens (e.g. "<s>") instead of nothing. Default true, as common_token_to_piece. */
  special?: boolean;
  /** Drop up to this many leading spaces. */
  lstrip?: number;
}

/** The bytes token `id` prints as (llama_token_to_piece). */
export function tokenToPiece(vocab: Vocab, id: number, opts: PieceOptions = {}): Uint8Array {
  if (!Number.isInteger(id) || id < 0 || id >= vocab.tokens.length) throw new RangeError(`token id ${id} is outside the vocab (0..${vocab.tokens.length - 1})`);
  const attr = vocab.attrs[id]!;
  if (opts.special === false && attr & (ATTR.UNKNOWN | ATTR.CONTROL)) return new Uint8Array(0);
  const text = vocab.tokens[id]!;
  let piece: Uint8Array;
  if (attr & (ATTR.UNKNOWN | ATTR.CONTROL | ATTR.USER_DEFINED)) piece = encoder.encode(text);
  else if (attr & ATTR.NORMAL) piece = vocab.type === 'spm' ? encoder.encode(text.replaceAll('\u2581', ' ')) : decodeByteLevel(text);
  else if (attr & ATTR.BYTE) piece = Uint8Array.of(byteOfToken(text));
  else piece = new Uint8Array(0); // UNUSED / UNDEFINED print nothing
  let skip = 0;
  while (skip < (opts.lstrip ?? 0) && piece[skip] === 0x20) skip++;
  return piece.subarray(skip);
}

export interface DetokenizeOptions {
  /** Drop a leading BOS and trailing EOS the vocab would add. Default false. */
  removeSpecial?: boolean;
  /** Render CONTROL/UNKNOWN tokens. Default true, as common_detokenize. */
  unparseSpecial?: boolean;
}

/** `llama_detokenize` as bytes. */
export function detokenizeBytes(vocab: Vocab, ids: ArrayLike<number>, opts: DetokenizeOptions = {}): Uint8Array {
  let list = Array.from(ids);
  let removeSpace = vocab.addSpacePrefix;
  if (opts.removeSpecial && vocab.addBos && list.length > 0 && list[0] === vocab.special.bos) {
    removeSpace = false; // as llama.cpp: after a removed BOS the leading space stays
    list = list.slice(1);
  }
  if (opts.removeSpecial && vocab.addEos && list.length > 0 && list[list.length - 1] === vocab.special.eos) list = list.slice(0, -1);
  const parts: number[] = [];
  for (const id of list) {
    for (const b of tokenToPiece(vocab, id, { special: opts.unparseSpecial ?? true, lstrip: removeSpace ? 1 : 0 })) parts.push(b);
    removeSpace = false;
  }
  return Uint8Array.from(vocab.cleanSpaces ? cleanSpaces(parts) : parts);
}

/** `llama_detokenize` decoded as UTF-8 (invalid sequences become U+FFFD). */
export function detokenize(vocab: Vocab, ids: ArrayLike<number>, opts: DetokenizeOptions = {}): string {
  return decoder.decode(detokenizeBytes(vocab, ids, opts));
}

const SP = 0x20, Q = 0x27;

/** The three clean_spaces passes of llama_vocab::impl::detokenize, on bytes. */
function cleanSpaces(t: number[]): number[] {
  // " ?", " !", " .", " ," lose the space
  const a: number[] = t.length ? [t[0]!] : [];
  for (let i = 1; i < t.length; i++) {
    const x = t[i]!;
    if (t[i - 1] === SP && (x === 0x3f || x === 0x21 || x === 0x2e || x === 0x2c)) a.pop();
    a.push(x);
  }
  // " ' " becomes "'"
  const b: number[] = a.length ? [a[0]!] : [];
  for (let i = 1; i < a.length; i++) {
    const x = a[i]!;
    if (x === Q && i + 1 < a.length && a[i - 1] === SP && a[i + 1] === SP) {
      b.pop();
      b.push(x);
      a[++i] = 0; // llama.cpp NULs the dropped space in place, so the next check sees no space there
      continue;
    }
    b.push(x);
  }
  // " 's", " 'm", " 're", " 've" lose the space
  const c: number[] = b.length ? [b[0]!] : [];
  for (let i = 1; i < b.length; i++) {
    const x = b[i]!;
    if (b[i - 1] === SP && x === Q && i + 1 < b.length) {
      const x1 = b[i + 1]!;
      if (x1 === 0x73 || x1 === 0x6d) c.pop();
      else if (i + 2 < b.length && ((x1 === 0x72 && b[i + 2] === 0x65) || (x1 === 0x76 && b[i + 2] === 0x65))) c.pop();
    }
    c.push(x);
  }
  return c;
}
