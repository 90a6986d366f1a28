import { FormatError, UnsupportedError } from '../../errors.ts';

type Json = Record<string, any>;

const encoder = new TextEncoder();

/**
 * HF tokenizers' BPE model (`models/bpe`): a word becomes one symbol per character (or its
 * `<0xXX>` byte tokens with byte_fallback, or unk), then the lowest-ranked adjacent pair is merged,
 * leftmost first, until no pair has a merge. HF does this with a heap keyed by (rank, position);
 * repeatedly taking the minimum over the current pairs gives the same result.
 */
export class BpeModel {
  readonly vocab: Map<string, number>;
  private readonly merges = new Map<number, { rank: number; id: number }>();
  private readonly byteFallback: boolean;
  private readonly ignoreMerges: boolean;
  private readonly unkId: number | undefined;
  private readonly fuseUnk: boolean;
  private readonly cache = new Map<string, number[]>();

  constructor(cfg: Json, file: string) {
    if (cfg.type !== 'BPE') throw new UnsupportedError('TOKENIZER_MODEL', `tokenizer model type '${cfg.type}' is not supported (only BPE)`, { file });
    if (cfg.continuing_subword_prefix || cfg.end_of_word_suffix) {
      throw new UnsupportedError('TOKENIZER_MODEL', 'BPE continuing_subword_prefix / end_of_word_suffix are not supported', { file });
    }
    if (!cfg.vocab || typeof cfg.vocab !== 'object') throw new FormatError('TOKENIZER_VOCAB', 'model.vocab is missing', { file });
    this.vocab = new Map(Object.entries(cfg.vocab as Record<string, number>));
    this.byteFallback = cfg.byte_fallback === true;
    this.ignoreMerges = cfg.ignore_merges === true;
    this.fuseUnk = cfg.fuse_unk === true;
    this.unkId = cfg.unk_token != null ? this.vocab.get(String(cfg.unk_token)) : undefined;
    const merges = (cfg.merges ?? []) as (string | [string, string])[];
    merges.forEach((m, rank) => {
      const [a, b] = parseMerge(m, rank, file);
      const ia = this.vocab.get(a);
      const ib = this.vocab.get(b);
      const id = this.vocab.get(a + b);
      if (ia === undefined || ib === undefined || id === undefined) {
        throw new FormatError('TOKENIZER_MERGES', `merge #${rank} ${JSON.stringify(m)} uses a token missing from the vocab`, { file });
      }
      const key = pairKey(ia, ib);
      if (!this.merges.has(key)) this.merges.set(key, { rank, id });
    });
  }

  tokenize(word: string): number[] {
    const hit = this.cache.get(word);
    if (hit) return hit;
    const ids = this.tokenizeUncached(word);
    if (this.cache.size < 100_000) this.cache.set(word, ids);
    return ids;
  }

  private tokenizeUncached(word: string): number[] {
    if (this.ignoreMerges) {
      const whole = this.vocab.get(word);
      if (whole !== undefined) return [whole];
    }
    const symbols: number[] = [];
    let pendingUnk = false;
    for (const ch of word) {
      const id = this.vocab.get(ch);
      if (id !== undefined) { symbols.push(id); pendingUnk = false; continue; }
      if (this.byteFallback) {
        const bytes = [...encoder.encode(ch)].map((b) => this.vocab.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`));
        if (bytes.every((b) => b !== undefined)) { symbols.push(...(bytes as number[])); pendingUnk = false; continue; }
      }
      if (this.unkId === undefined) continue; // HF drops the character when there is no unk token
      if (!(this.fuseUnk && pendingUnk)) symbols.push(this.unkId);
      pendingUnk = true;
    }
    for (;;) {
      let best = -1;
      let bestRank = Infinity;
      let bestId = 0;
      for (let i = 0; i + 1 < symbols.length; i++) {
        const m = this.merges.get(pairKey(symbols[i], symbols[i + 1]));
        if (m && m.rank < bestRank) { best = i; bestRank = m.rank; bestId = m.id; }
      }
      if (best < 0) break;
      symbols.splice(best, 2, bestId);
    }
    return symbols;
  }
}

function pairKey(a: number, b: number): number {
  return a * 0x200000 + b; // ids < 2^21, so the key is exact in a double
}

function parseMerge(m: string | [string, string], rank: number, file: string): [string, string] {
  if (Array.isArray(m) && m.length === 2) return [String(m[0]), String(m[1])];
  if (typeof m === 'string') {
    const parts = m.split(' ');
    if (parts.length === 2) return [parts[0], parts[1]];
  }
  throw new FormatError('TOKENIZER_MERGES', `merge #${rank} ${JSON.stringify(m)} is not "a b" or [a, b]`, { file });
}
