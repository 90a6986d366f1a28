/**
 * Code point classes as llama.cpp's unicode.cpp sees them (`unicode_cpt_flags`): one general
 * category bit (from UnicodeData.txt via scripts/gen-unicode-data.py: Cn → UNDEFINED, Cc/Cf/Co/Cs →
 * CONTROL, L* → LETTER, …) plus llama.cpp's own fixed whitespace set, which is not JS's `\s`
 * (it has U+0085, lacks U+FEFF). We derive the categories from V8's Unicode property escapes,
 * except for the code points llama.cpp's (older) Unicode data leaves unassigned
 * (unicode-unassigned.ts); the table is filled lazily, one code point at a time.
 */
import { unassignedInLlamaCpp } from './unicode-unassigned.ts';

export const UNDEFINED = 0x0001;
export const NUMBER = 0x0002;
export const LETTER = 0x0004;
export const SEPARATOR = 0x0008;
export const ACCENT_MARK = 0x0010;
export const PUNCTUATION = 0x0020;
export const SYMBOL = 0x0040;
export const CONTROL = 0x0080;
export const MASK_CATEGORIES = 0x00ff;
export const WHITESPACE = 0x0100;

export const MAX_CODEPOINTS = 0x110000;

/** `unicode_set_whitespace`: 0x09–0x0D, 0x2000–0x200A and these. */
const WHITESPACE_SET = new Set<number>([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680,
  0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a,
  0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);

const CATEGORY_TESTS: readonly [RegExp, number][] = [
  [/^\p{L}$/u, LETTER],
  [/^\p{N}$/u, NUMBER],
  [/^\p{P}$/u, PUNCTUATION],
  [/^\p{S}$/u, SYMBOL],
  [/^\p{M}$/u, ACCENT_MARK],
  [/^\p{Z}$/u, SEPARATOR],
  [/^[\p{Cc}\p{Cf}\p{Co}\p{Cs}]$/u, CONTROL],
];

const COMPUTED = 0x8000;
const table = new Uint16Array(MAX_CODEPOINTS);

function compute(cpt: number): number {
  // Lone surrogates cannot be tested as strings with /u; they are Cs (CONTROL).
  let flags = cpt >= 0xd800 && cpt <= 0xdfff ? CONTROL : UNDEFINED;
  if (flags === UNDEFINED && !unassignedInLlamaCpp(cpt)) {
    const ch = String.fromCodePoint(cpt);
    for (const [re, bit] of CATEGORY_TESTS) if (re.test(ch)) { flags = bit; break; }
  }
  if (WHITESPACE_SET.has(cpt)) flags |= WHITESPACE;
  return flags;
}

/** `unicode_cpt_flags_from_cpt`: out-of-range code points are UNDEFINED. */
export function cptFlags(cpt: number): number {
  if (cpt >= MAX_CODEPOINTS) return UNDEFINED;
  let f = table[cpt]!;
  if (f === 0) table[cpt] = f = compute(cpt) | COMPUTED;
  return f & ~COMPUTED;
}

export const isLetter = (f: number): boolean => (f & LETTER) !== 0;
export const isNumber = (f: number): boolean => (f & NUMBER) !== 0;
export const isWhitespace = (f: number): boolean => (f & WHITESPACE) !== 0;

/** The code points of a JS string (lone surrogates already replaced by U+FFFD, see toCodepoints). */
export function toCodepoints(text: string): Uint32Array {
  const out = new Uint32Array(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.codePointAt(i)!;
    out[n++] = c;
    if (c > 0xffff) i++;
  }
  return out.subarray(0, n);
}

export function fromCodepoints(cpts: ArrayLike<number>, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCodePoint(cpts[i]!);
  return s;
}

/** llama.cpp works on UTF-8 bytes; a JS string with lone surrogates has none, so they become U+FFFD as TextEncoder does. */
export function wellFormed(text: string): string {
  return (text as string & { toWellFormed(): string }).toWellFormed();
}
