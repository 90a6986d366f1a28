/**
 * `unicode_regex_split` (llama.cpp unicode.cpp): split text into pre-tokenizer words by a list of
 * regexes applied in turn, each refining the previous split. Known regexes use the hand-written
 * splitters; any other regex runs as llama.cpp runs it through std::regex (ECMAScript grammar,
 * which JS RegExp shares), including its trick for Unicode categories: when a regex names
 * \p{L}/\p{N}/\p{P}/\p{M}/\p{S}, both text and regex are "collapsed" so that every non-ASCII code
 * point becomes one byte standing for its category (0xD1 N, 0xD2 L, 0xD3 P, 0xD4 M, 0xD5 S, 0xD0
 * other, 0x0B whitespace), and the category becomes a character class over that byte plus its
 * ASCII members.
 */
import { UnsupportedError } from '../errors.ts';
import { CUSTOM_SPLITTERS } from './regex-split-custom.ts';
import { ACCENT_MARK, cptFlags, fromCodepoints, LETTER, MASK_CATEGORIES, NUMBER, PUNCTUATION, SYMBOL, toCodepoints, WHITESPACE } from './unicode-flags.ts';

const UCAT_ENUM: Readonly<Record<string, number>> = {
  '\\p{N}': NUMBER, '\\p{L}': LETTER, '\\p{P}': PUNCTUATION, '\\p{M}': ACCENT_MARK, '\\p{S}': SYMBOL,
  '\\p{Lu}': LETTER, '\\p{Ll}': LETTER, '\\p{Lt}': LETTER, '\\p{Lm}': LETTER, '\\p{Lo}': LETTER,
};
const UCAT_CPT: Readonly<Record<number, number>> = { [NUMBER]: 0xd1, [LETTER]: 0xd2, [PUNCTUATION]: 0xd3, [ACCENT_MARK]: 0xd4, [SYMBOL]: 0xd5 };
/** The ASCII members of each category, as llama.cpp's k_ucat_map spells them. */
const UCAT_MAP: Readonly<Record<number, string>> = {
  [NUMBER]: '0-9',
  [LETTER]: 'A-Za-z',
  [PUNCTUATION]: '!-#%-*,-/:-;?-@\\[-\\]_\\{\\}',
  [ACCENT_MARK]: '',
  [SYMBOL]: '\\$\\+<->\\^`\\|~',
};

const usesCategories = (re: string) => Object.keys(UCAT_ENUM).some((k) => re.includes(k));

function collapseText(cpts: Uint32Array): string {
  let s = '';
  for (const c of cpts) {
    if (c < 128) { s += String.fromCharCode(c); continue; }
    const f = cptFlags(c);
    if (f & WHITESPACE) s += '\x0b';
    else s += String.fromCharCode(UCAT_CPT[f & MASK_CATEGORIES] ?? 0xd0);
  }
  return s;
}

/** The regex rewritten over collapsed text (the loop of unicode_regex_split, `inside` tracking included). */
function collapseRegex(re: string): string {
  let out = '';
  let inside = false;
  for (let i = 0; i < re.length; i++) {
    if (re[i] === '[' && (i === 0 || re[i - 1] !== '\\')) { out += '['; inside = true; continue; }
    if (inside && re[i] === ']' && re[i - 1] !== '\\') { out += ']'; inside = false; continue; }
    if (re[i] === '\\' && i + 3 < re.length && re[i + 1] === 'p' && re[i + 2] === '{') {
      const close = re.indexOf('}', i + 3);
      if (close >= 0 && close <= i + 10) {
        const cat = UCAT_ENUM[re.slice(i, close + 1)];
        if (cat !== undefined) {
          const cls = String.fromCharCode(UCAT_CPT[cat]!) + UCAT_MAP[cat];
          out += inside ? cls : `[${cls}]`;
          i = close;
          continue;
        }
      }
    }
    out += re[i];
  }
  return out;
}

/**
 * For std::wregex, non-ASCII whitespace was replaced by 0x0B, so \s and \S only ever meet ASCII;
 * we spell them out so that JS's wider \s (U+FEFF…) does not leak in.
 */
function asciiWhitespaceClasses(re: string): string {
  let out = '';
  let inside = false;
  for (let i = 0; i < re.length; i++) {
    const c = re[i]!;
    if (c === '\\' && (re[i + 1] === 's' || re[i + 1] === 'S')) {
      const neg = re[i + 1] === 'S';
      if (inside) {
        if (neg) throw new UnsupportedError('TOKENIZER_REGEX', `\\S inside a character class is not supported in ${JSON.stringify(re)}`);
        out += '\\t\\n\\v\\f\\r ';
      } else {
        out += neg ? '[^\\t\\n\\v\\f\\r ]' : '[\\t\\n\\v\\f\\r ]';
      }
      i++;
      continue;
    }
    if (c === '\\') { out += c + (re[i + 1] ?? ''); i++; continue; }
    if (c === '[') inside = true;
    else if (c === ']') inside = false;
    out += c;
  }
  return out;
}

const compiled = new Map<string, { re: RegExp; collapsed: boolean }>();

function compile(expr: string): { re: RegExp; collapsed: boolean } {
  let hit = compiled.get(expr);
  if (!hit) {
    try {
      hit = usesCategories(expr)
        ? { re: new RegExp(collapseRegex(expr), 'g'), collapsed: true }
        : { re: new RegExp(asciiWhitespaceClasses(expr), 'gu'), collapsed: false };
    } catch (err) {
      throw new UnsupportedError('TOKENIZER_REGEX', `pre-tokenizer regex ${JSON.stringify(expr)} does not compile: ${(err as Error).message}`);
    }
    compiled.set(expr, hit);
  }
  return hit;
}

/** `unicode_regex_split_stl`: matches and the gaps between them become words, per current fragment. */
function splitStl(subject: string, unitsPerCpt: (s: string) => number, cptStarts: Int32Array | null, re: RegExp, offsets: readonly number[]): number[] {
  const out: number[] = [];
  let start = 0; // in code points
  for (const offset of offsets) {
    const a = cptStarts ? cptStarts[start]! : start;
    const b = cptStarts ? cptStarts[start + offset]! : start + offset;
    const frag = subject.slice(a, b);
    let last = 0; // in code points within the fragment
    let lastUnit = 0;
    re.lastIndex = 0;
    for (const m of frag.matchAll(re)) {
      // An empty match still splits (llama.cpp records it as a word of length 0), e.g. the
      // lookahead-only digit-grouping regexes.
      const pos = last + unitsPerCpt(frag.slice(lastUnit, m.index));
      if (pos > last) out.push(pos - last);
      const len = unitsPerCpt(m[0]);
      out.push(len);
      last = pos + len;
      lastUnit = m.index! + m[0].length;
    }
    if (last < offset) out.push(offset - last);
    start += offset;
  }
  return out;
}

const countCpts = (s: string) => { let n = 0; for (let i = 0; i < s.length; i++) { n++; const c = s.charCodeAt(i); if (c >= 0xd800 && c <= 0xdbff) i++; } return n; };

/** Split `text` into words (as strings of code points) the way llama.cpp's BPE pre-tokenizer does. */
export function regexSplit(text: string, exprs: readonly string[]): string[] {
  const cpts = toCodepoints(text);
  let offsets: number[] = [cpts.length];
  let collapsedText: string | undefined;
  let wideText: string | undefined;
  let wideStarts: Int32Array | undefined;
  for (const expr of exprs) {
    const custom = CUSTOM_SPLITTERS.get(expr);
    if (custom) {
      const tmp = custom(cpts, offsets);
      if (tmp.length) { offsets = tmp; continue; }
    }
    const { re, collapsed } = compile(expr);
    if (collapsed) {
      collapsedText ??= collapseText(cpts);
      offsets = splitStl(collapsedText, (s) => s.length, null, re, offsets);
    } else {
      if (wideText === undefined) {
        // Non-ASCII whitespace becomes 0x0B, as llama.cpp does before std::wregex.
        let s = '';
        wideStarts = new Int32Array(cpts.length + 1);
        for (let i = 0; i < cpts.length; i++) {
          wideStarts[i] = s.length;
          const c = cpts[i]!;
          s += c > 0x7f && cptFlags(c) & WHITESPACE ? '\x0b' : String.fromCodePoint(c);
        }
        wideStarts[cpts.length] = s.length;
        wideText = s;
      }
      offsets = splitStl(wideText, countCpts, wideStarts!, re, offsets);
    }
  }
  const words: string[] = [];
  let start = 0;
  for (const n of offsets) {
    words.push(fromCodepoints(cpts, start, start + n));
    start += n;
  }
  return words;
}
