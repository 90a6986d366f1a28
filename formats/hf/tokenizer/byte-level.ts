/**
 * GPT-2's reversible byte → printable-character table (HF tokenizers `bytes_char`, the same table
 * as transformers' `bytes_to_unicode`). Byte-level BPE vocabularies are written in these characters:
 * printable Latin-1 bytes map to themselves, the other 68 bytes to U+0100 onwards (space → 'Ġ').
 */
function buildTable(): string[] {
  const table: string[] = new Array(256);
  const keepsItself = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let next = 256;
  for (let b = 0; b < 256; b++) table[b] = String.fromCodePoint(keepsItself(b) ? b : next++);
  return table;
}

export const BYTE_TO_CHAR: readonly string[] = buildTable();

const encoder = new TextEncoder();

/** The UTF-8 bytes of `text`, each replaced by its byte-level character. */
export function byteLevelEncode(text: string): string {
  let out = '';
  for (const b of encoder.encode(text)) out += BYTE_TO_CHAR[b];
  return out;
}
