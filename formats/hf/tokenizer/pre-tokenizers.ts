import { UnsupportedError } from '../../errors.ts';
import { byteLevelEncode } from './byte-level.ts';
import { onigurumaToJs } from './oniguruma-regex.ts';

/**
 * A pre-tokenizer splits one normalized segment into words; the BPE model then runs on each word.
 * We carry plain strings (ids never depend on offsets). `first` says the segment starts the input,
 * which Metaspace's prepend_scheme "first" needs.
 */
export type PreTokenizer = (pieces: string[], first: boolean) => string[];

type Json = Record<string, any>;
type Behavior = 'Removed' | 'Isolated' | 'MergedWithPrevious' | 'MergedWithNext' | 'Contiguous';

/** GPT-2's own pattern, used by ByteLevel when `use_regex` is true. */
const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

export function buildPreTokenizer(cfg: Json | null | undefined, file: string): PreTokenizer {
  if (!cfg) return (p) => p;
  switch (cfg.type) {
    case 'Sequence': {
      const steps = (cfg.pretokenizers as Json[]).map((c) => buildPreTokenizer(c, file));
      return (p, first) => steps.reduce((acc, f) => f(acc, first), p);
    }
    case 'Split': {
      const re = cfg.pattern?.Regex !== undefined
        ? onigurumaToJs(String(cfg.pattern.Regex), file)
        : new RegExp(escapeRegex(String(cfg.pattern?.String)), 'gu');
      const behavior = cfg.behavior as Behavior;
      const invert = cfg.invert === true;
      return (p) => p.flatMap((s) => splitBy(s, re, behavior, invert));
    }
    case 'ByteLevel': {
      const re = cfg.use_regex !== false ? onigurumaToJs(GPT2_PATTERN, file) : null;
      const addPrefix = cfg.add_prefix_space === true;
      return (p) => p.flatMap((s) => {
        const t = addPrefix && !s.startsWith(' ') ? ' ' + s : s;
        return (re ? splitBy(t, re, 'Isolated', false) : [t]).map(byteLevelEncode);
      });
    }
    case 'Metaspace': {
      const rep = String(cfg.replacement ?? '▁');
      // Older files say add_prefix_space instead of prepend_scheme.
      const scheme = cfg.prepend_scheme ?? (cfg.add_prefix_space === false ? 'never' : 'always');
      const split = cfg.split !== false;
      return (p, first) => p.flatMap((s) => {
        let t = s.split(' ').join(rep);
        if (!t.startsWith(rep) && (scheme === 'always' || (scheme === 'first' && first))) t = rep + t;
        return split ? splitBy(t, new RegExp(escapeRegex(rep), 'gu'), 'MergedWithNext', false) : [t];
      });
    }
    default:
      throw new UnsupportedError('TOKENIZER_PRE_TOKENIZER', `pre-tokenizer type '${cfg.type}' is not supported`, { file });
  }
}

/** HF `NormalizedString::split` for one pattern and delimiter behaviour, dropping empty pieces. */
export function splitBy(s: string, re: RegExp, behavior: Behavior, invert: boolean): string[] {
  // Pieces as [text, isMatch]; `invert` swaps which parts count as the delimiter.
  const parts: [string, boolean][] = [];
  let last = 0;
  re.lastIndex = 0;
  for (const m of s.matchAll(re)) {
    if (m[0].length === 0) continue;
    if (m.index! > last) parts.push([s.slice(last, m.index), invert]);
    parts.push([m[0], !invert]);
    last = m.index! + m[0].length;
  }
  if (last < s.length) parts.push([s.slice(last), invert]);

  // Each case follows HF's fold over (piece, isDelimiter): `prevDelim` is the previous piece's flag.
  const out: string[] = [];
  let prevDelim = false;
  switch (behavior) {
    case 'Removed':
      for (const [t, d] of parts) if (!d) out.push(t);
      break;
    case 'Isolated':
      for (const [t] of parts) out.push(t);
      break;
    case 'MergedWithPrevious':
      for (const [t, d] of parts) {
        if (d && !prevDelim && out.length) out[out.length - 1] += t;
        else out.push(t);
        prevDelim = d;
      }
      break;
    case 'MergedWithNext':
      // HF folds from the end: a delimiter joins the piece after it unless that piece is a delimiter too.
      for (let i = parts.length - 1; i >= 0; i--) {
        const [t, d] = parts[i];
        if (d && !prevDelim && out.length) out[out.length - 1] = t + out[out.length - 1];
        else out.push(t);
        prevDelim = d;
      }
      out.reverse();
      break;
    case 'Contiguous':
      for (const [t, d] of parts) {
        if (d === prevDelim && out.length) out[out.length - 1] += t;
        else out.push(t);
        prevDelim = d;
      }
      break;
    default:
      throw new UnsupportedError('TOKENIZER_SPLIT', `split behavior '${behavior}' is not supported`);
  }
  return out.filter((t) => t.length > 0);
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
