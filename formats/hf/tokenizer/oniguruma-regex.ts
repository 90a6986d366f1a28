import { UnsupportedError } from '../../errors.ts';

/**
 * HF tokenizers compile `Split` patterns with Oniguruma. The patterns real models ship (GPT-2,
 * Llama 3, Qwen2) use only syntax JavaScript's `u` regexes share, except the scoped
 * case-insensitive group `(?i:...)`, which Node 20's V8 lacks: we expand the letters inside such a
 * group into `[xX]` classes, which is exactly what the flag means for ASCII contractions like `'re`.
 */
export function onigurumaToJs(pattern: string, file: string): RegExp {
  let src = '';
  let i = 0;
  while (i < pattern.length) {
    if (pattern.startsWith('(?i:', i)) {
      const end = matchingParen(pattern, i);
      if (end < 0) throw new UnsupportedError('TOKENIZER_REGEX', `unbalanced (?i: group in pre-tokenizer regex ${JSON.stringify(pattern)}`, { file });
      src += '(?:' + caseFold(pattern.slice(i + 4, end), pattern, file) + ')';
      i = end + 1;
    } else if (pattern[i] === '\\') {
      src += pattern.slice(i, i + 2);
      i += 2;
    } else {
      src += pattern[i++];
    }
  }
  try {
    return new RegExp(src, 'gu');
  } catch (err) {
    throw new UnsupportedError('TOKENIZER_REGEX', `pre-tokenizer regex ${JSON.stringify(pattern)} is not supported: ${(err as Error).message}`, { file });
  }
}

function matchingParen(s: string, open: number): number {
  let depth = 0;
  let inClass = false;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') { i++; continue; }
    if (inClass) { if (c === ']') inClass = false; continue; }
    if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  return -1;
}

function caseFold(body: string, whole: string, file: string): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '\\' || c === '[') {
      throw new UnsupportedError('TOKENIZER_REGEX', `escapes or classes inside (?i:...) are not supported in pre-tokenizer regex ${JSON.stringify(whole)}`, { file });
    }
    const lo = c.toLowerCase();
    const up = c.toUpperCase();
    out += lo !== up ? `[${lo}${up}]` : c;
  }
  return out;
}
