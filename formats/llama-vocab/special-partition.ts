/**
 * `tokenizer_st_partition` (llama-vocab.cpp): before any model runs, the text is cut at every
 * occurrence of a special token's text, longest tokens first. With parse_special false, CONTROL and
 * UNKNOWN tokens are not looked for, but USER_DEFINED ones still are (as HF does for added tokens).
 * LSTRIP/RSTRIP attributes eat the ASCII whitespace beside a match.
 */
import { ATTR } from './token-attrs.ts';
import type { Vocab } from './vocab.ts';

/** A piece of raw text, or a token id already decided. */
export type Fragment = string | number;

/** C isspace() in the "C" locale. */
const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';

export function partitionSpecial(vocab: Vocab, text: string, parseSpecial: boolean): Fragment[] {
  let frags: Fragment[] = text === '' ? [] : [text];
  for (const id of vocab.specialTokens) {
    const attr = vocab.attrs[id]!;
    if (!parseSpecial && attr & (ATTR.CONTROL | ATTR.UNKNOWN)) continue;
    const needle = vocab.tokens[id]!;
    const next: Fragment[] = [];
    for (const frag of frags) {
      if (typeof frag === 'number') { next.push(frag); continue; }
      let rest = frag;
      for (;;) {
        const at = rest.indexOf(needle);
        if (at < 0) { if (rest) next.push(rest); break; }
        let left = rest.slice(0, at);
        if (attr & ATTR.LSTRIP) while (left && isSpace(left[left.length - 1])) left = left.slice(0, -1);
        if (left) next.push(left);
        next.push(id);
        rest = rest.slice(at + needle.length);
        if (attr & ATTR.RSTRIP) { let k = 0; while (isSpace(rest[k])) k++; rest = rest.slice(k); }
      }
    }
    frags = next;
  }
  return frags;
}
