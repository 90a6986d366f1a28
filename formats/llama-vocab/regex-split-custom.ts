/**
 * llama.cpp's hand-written splitters for the pre-tokenizer regexes it sees most (unicode.cpp
 * `unicode_regex_split_custom_gpt2` / `_llama3` / `_qwen2`). They are not exactly the regexes they
 * replace (e.g. the letter run's optional prefix accepts any non-letter-non-digit code point), so we
 * port them statement by statement: llama.cpp's splits, not the regex's, are what we must equal.
 *
 * Each takes the text's code points and the current split (lengths in code points) and returns the
 * finer split.
 */
import { cptFlags, isLetter, isNumber, isWhitespace } from './unicode-flags.ts';

const OUT_OF_RANGE = 0xffffffff;

type Splitter = (cpts: Uint32Array, offsets: readonly number[]) => number[];

/** Shared scaffolding: per fragment, a reader that returns OUT_OF_RANGE / 0 flags beyond the fragment. */
function perFragment(cpts: Uint32Array, offsets: readonly number[], body: (ini: number, end: number, cpt: (p: number) => number, flags: (p: number) => number, add: (end: number) => number) => void): number[] {
  const out: number[] = [];
  let start = 0;
  for (const offset of offsets) {
    const ini = start;
    const end = start + offset;
    start = end;
    const cpt = (p: number) => (ini <= p && p < end ? cpts[p]! : OUT_OF_RANGE);
    const flags = (p: number) => (ini <= p && p < end ? cptFlags(cpts[p]!) : 0);
    let prevEnd = ini;
    const add = (e: number) => {
      const len = e - prevEnd;
      if (len > 0) out.push(len);
      prevEnd = e;
      return len;
    };
    body(ini, end, cpt, flags, add);
  }
  return out;
}

const notWln = (f: number) => (f & 0x0100) === 0 && (f & 0x0004) === 0 && (f & 0x0002) === 0; // !(ws | letter | number)

/** GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ */
export const splitGpt2: Splitter = (cpts, offsets) => perFragment(cpts, offsets, (_ini, end, cpt, flags, add) => {
  for (let pos = _ini; pos < end;) {
    const c = cpt(pos);
    const f = flags(pos);
    if (c === 0x27 && pos + 1 < end) {
      const n = cpt(pos + 1);
      if (n === 0x73 || n === 0x74 || n === 0x6d || n === 0x64) { pos += add(pos + 2); continue; }
      if (pos + 2 < end) {
        const nn = cpt(pos + 2);
        if ((n === 0x72 && nn === 0x65) || (n === 0x76 && nn === 0x65) || (n === 0x6c && nn === 0x6c)) { pos += add(pos + 3); continue; }
      }
    }
    let f2 = c === 0x20 ? flags(pos + 1) : f;
    if (isLetter(f2)) {
      pos += c === 0x20 ? 1 : 0;
      while (isLetter(f2)) f2 = flags(++pos);
      add(pos);
      continue;
    }
    if (isNumber(f2)) {
      pos += c === 0x20 ? 1 : 0;
      while (isNumber(f2)) f2 = flags(++pos);
      add(pos);
      continue;
    }
    if (notWln(f2) && f2 !== 0) {
      pos += c === 0x20 ? 1 : 0;
      while (notWln(f2) && f2 !== 0) f2 = flags(++pos);
      add(pos);
      continue;
    }
    let ws = 0;
    while (isWhitespace(flags(pos + ws))) ws++;
    if (ws > 1 && cpt(pos + ws) !== OUT_OF_RANGE) { pos += ws - 1; add(pos); continue; }
    if (ws > 0) { pos += ws; add(pos); continue; }
    add(++pos);
  }
});

/** ASCII is all `unicode_tolower` can map onto the contraction letters. */
const lower = (c: number) => (c >= 0x41 && c <= 0x5a ? c + 32 : c);

/**
 * Llama 3 (maxDigits 3): (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 * Qwen2 (maxDigits 1): the same with \p{N}.
 */
function llama3Like(maxDigits: 1 | 3): Splitter {
  return (cpts, offsets) => perFragment(cpts, offsets, (ini, end, cpt, flags, add) => {
    for (let pos = ini; pos < end;) {
      const c = cpt(pos);
      const f = flags(pos);
      if (c === 0x27 && pos + 1 < end) {
        const n = lower(cpt(pos + 1));
        if (n === 0x73 || n === 0x74 || n === 0x6d || n === 0x64) { pos += add(pos + 2); continue; }
        if (pos + 2 < end) {
          const nn = lower(cpt(pos + 2));
          if ((n === 0x72 && nn === 0x65) || (n === 0x76 && nn === 0x65) || (n === 0x6c && nn === 0x6c)) { pos += add(pos + 3); continue; }
        }
      }
      if (!(c === 0x0d || c === 0x0a || isNumber(f))) {
        if (isLetter(f) || isLetter(flags(pos + 1))) {
          pos++;
          while (isLetter(flags(pos))) pos++;
          add(pos);
          continue;
        }
      }
      if (isNumber(f)) {
        if (maxDigits === 3) {
          let first = pos;
          while (isNumber(flags(pos))) {
            if (++pos - first >= 3) { add(pos); first = pos; }
          }
        } else {
          pos++;
        }
        add(pos);
        continue;
      }
      let f2 = c === 0x20 ? flags(pos + 1) : f;
      // llama.cpp tests `flags` (not flags2) for being in range here.
      if (notWln(f2) && f !== 0) {
        pos += c === 0x20 ? 1 : 0;
        while (notWln(f2) && f2 !== 0) f2 = flags(++pos);
        let c2 = cpt(pos);
        while (c2 === 0x0d || c2 === 0x0a) c2 = cpt(++pos);
        add(pos);
        continue;
      }
      let ws = 0;
      let lastRn = 0;
      while (isWhitespace(flags(pos + ws))) {
        const c2 = cpt(pos + ws);
        if (c2 === 0x0d || c2 === 0x0a) lastRn = pos + ws + 1;
        ws++;
      }
      if (lastRn > 0) { pos = lastRn; add(pos); continue; }
      if (ws > 1 && cpt(pos + ws) !== OUT_OF_RANGE) { pos += ws - 1; add(pos); continue; }
      if (ws > 0) { pos += ws; add(pos); continue; }
      add(++pos);
    }
  });
}

export const splitLlama3 = llama3Like(3);
export const splitQwen2 = llama3Like(1);

/** `unicode_regex_split_custom`: the exact regex strings that have a hand-written splitter. */
export const CUSTOM_SPLITTERS: ReadonlyMap<string, Splitter> = new Map([
  ["'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)", splitGpt2],
  ["(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", splitLlama3],
  ["(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", splitLlama3],
  ["(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", splitQwen2],
]);
