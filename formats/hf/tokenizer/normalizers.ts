import { UnsupportedError } from '../../errors.ts';
import { onigurumaToJs } from './oniguruma-regex.ts';

/** A normalizer rewrites the text of one segment (between added tokens) before pre-tokenization. */
export type Normalizer = (text: string) => string;

type Json = Record<string, any>;

/** Build HF tokenizers' `normalizer` from tokenizer.json (null → identity). */
export function buildNormalizer(cfg: Json | null | undefined, file: string): Normalizer {
  if (!cfg) return (s) => s;
  switch (cfg.type) {
    case 'Sequence': {
      const steps = (cfg.normalizers as Json[]).map((n) => buildNormalizer(n, file));
      return (s) => steps.reduce((acc, f) => f(acc), s);
    }
    case 'NFC': return (s) => s.normalize('NFC');
    case 'NFD': return (s) => s.normalize('NFD');
    case 'NFKC': return (s) => s.normalize('NFKC');
    case 'NFKD': return (s) => s.normalize('NFKD');
    case 'Lowercase': return (s) => s.toLowerCase();
    case 'Prepend': {
      const prefix = String(cfg.prepend);
      // HF prepends only to non-empty text.
      return (s) => (s.length ? prefix + s : s);
    }
    case 'Replace': {
      const content = String(cfg.content);
      if (cfg.pattern?.String !== undefined) {
        const needle = String(cfg.pattern.String);
        return (s) => s.split(needle).join(content);
      }
      const re = onigurumaToJs(String(cfg.pattern?.Regex), file);
      return (s) => s.replace(re, () => content);
    }
    case 'Strip': {
      const left = cfg.strip_left !== false;
      const right = cfg.strip_right !== false;
      return (s) => {
        const t = left ? s.replace(/^\s+/u, '') : s;
        return right ? t.replace(/\s+$/u, '') : t;
      };
    }
    default:
      throw new UnsupportedError('TOKENIZER_NORMALIZER', `normalizer type '${cfg.type}' is not supported`, { file });
  }
}
