import { UnsupportedError } from '../errors.ts';
import { CHKTXT, chkHash, KNOWN_PRE_HASHES } from './pre-tokenizer-hash.ts';
import { asLoadedByTransformers } from './tokenizer-class.ts';
import { HfTokenizer } from './tokenizer/hf-tokenizer.ts';

type Json = Record<string, any>;

export interface PreDetection {
  pre: string;
  /** The chktxt hash, when it was computed. */
  hash?: string;
  how: 'override' | 'hash' | 'definition';
  warnings: { code: string; message: string }[];
}

/** The Split regexes llama.cpp implements at run time under these pre-tokenizer names. */
const KNOWN_SPLIT_REGEXES: readonly { pre: string; regex: string }[] = [
  { pre: 'llama-bpe', regex: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+" },
  { pre: 'qwen2', regex: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+" },
];

/**
 * Choose `tokenizer.ggml.pre` for a byte-level BPE tokenizer.json, in three tiers:
 * 1. `override` (the user's --pre) wins;
 * 2. the chktxt hash, computed by running this tokenizer in JS as transformers loads it (tokenizer-class.ts),
 *    is one llama.cpp's converter knows;
 * 3. the hash is unknown (new vocab, e.g. a re-trained tiny tokenizer) but the pre-tokenizer
 *    definition is exactly Llama 3's or Qwen2's Split regex + plain ByteLevel: llama.cpp applies
 *    that regex at run time, so the name is right; we say so in a warning.
 * Anything else is an UnsupportedError naming the hash; we never guess.
 */
export function detectPreTokenizer(
  tokenizerJson: Json, file: string, override?: string,
  loadedWith: { tokenizerConfig?: Json | null; modelType?: string } = {},
): PreDetection {
  if (override !== undefined) {
    if (!/^[A-Za-z0-9._-]+$/.test(override)) throw new UnsupportedError('PRE_TOKENIZER_NAME', `--pre '${override}' is not a valid pre-tokenizer name`, { file });
    return { pre: override, how: 'override', warnings: [] };
  }
  // convert hashes `AutoTokenizer.from_pretrained(dir).encode(chktxt)`: tokenizer_config can change its BOS/EOS.
  const loaded = asLoadedByTransformers(tokenizerJson, loadedWith.tokenizerConfig ?? null, loadedWith.modelType);
  const hash = chkHash(new HfTokenizer(loaded, file).encode(CHKTXT));
  const known = KNOWN_PRE_HASHES[hash];
  if (known) return { pre: known, hash, how: 'hash', warnings: [] };
  const byDefinition = matchDefinition(tokenizerJson.pre_tokenizer);
  if (byDefinition) {
    return {
      pre: byDefinition,
      hash,
      how: 'definition',
      warnings: [{
        code: 'PRE_TOKENIZER_BY_DEFINITION',
        message: `${file}: chktxt hash ${hash} is not one llama.cpp knows, but the pre-tokenizer is exactly ` +
          `${byDefinition}'s (Split regex + ByteLevel), which is what llama.cpp applies at run time; using tokenizer.ggml.pre = "${byDefinition}"`,
      }],
    };
  }
  throw new UnsupportedError(
    'UNKNOWN_PRE_TOKENIZER',
    `${file}: BPE pre-tokenizer not recognized (chktxt hash ${hash}); if you know which llama.cpp pre-tokenizer ` +
      `this model uses, pass --pre NAME (e.g. --pre llama-bpe or --pre qwen2)`,
    { file },
  );
}

function matchDefinition(pre: Json | null | undefined): string | undefined {
  if (pre?.type !== 'Sequence' || !Array.isArray(pre.pretokenizers) || pre.pretokenizers.length !== 2) return undefined;
  const [split, byteLevel] = pre.pretokenizers as Json[];
  if (split.type !== 'Split' || split.behavior !== 'Isolated' || split.invert !== false) return undefined;
  if (byteLevel.type !== 'ByteLevel' || byteLevel.add_prefix_space !== false || byteLevel.use_regex !== false) return undefined;
  return KNOWN_SPLIT_REGEXES.find((k) => k.regex === split.pattern?.Regex)?.pre;
}
