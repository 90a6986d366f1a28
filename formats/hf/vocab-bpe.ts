import { FormatError } from '../errors.ts';
import { looksSpecial, TokenType, type VocabArrays } from './token-types.ts';
import type { TokenizerFiles } from './tokenizer-files.ts';

type Json = Record<string, any>;

/** True for a SentencePiece-style BPE tokenizer.json (byte fallback), convert's `LlamaHfVocab`. */
export function isByteFallbackBpe(tok: Json | null): boolean {
  return !!tok && tok.model?.type === 'BPE' && tok.model?.byte_fallback === true && tok.decoder?.type === 'Sequence';
}

/**
 * convert's `get_vocab_base` (gpt2 path): every id below config vocab_size, base vocab plus
 * added tokens; unassigned ids become `[PADi]` (unused). Added tokens are control when special or
 * special-looking, else user-defined with '▁' turned back into spaces.
 */
export function gpt2Vocab(files: TokenizerFiles, configVocabSize: number | undefined): VocabArrays {
  const tok = files.tokenizerJson!;
  const byId = new Map<number, string>();
  for (const [t, id] of Object.entries(tok.model.vocab as Record<string, number>)) byId.set(id, t);
  const added = new Map<number, Json>();
  for (const a of (tok.added_tokens ?? []) as Json[]) { byId.set(a.id, a.content); added.set(a.id, a); }
  let maxId = -1;
  for (const id of byId.keys()) if (id > maxId) maxId = id; // no spread: vocabularies exceed the argument limit
  const n = configVocabSize ?? byId.size;
  if (maxId >= n) {
    throw new FormatError('VOCAB_SIZE', `token id ${maxId} is not below config.json vocab_size ${n}`, { file: files.tokenizerJsonPath });
  }
  const tokens: string[] = new Array(n);
  const types = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const t = byId.get(i);
    if (t === undefined) { tokens[i] = `[PAD${i}]`; types[i] = TokenType.UNUSED; continue; }
    const a = added.get(i);
    if (!a) { tokens[i] = t; types[i] = TokenType.NORMAL; continue; }
    if (a.special || looksSpecial(t)) { tokens[i] = t; types[i] = TokenType.CONTROL; }
    else { tokens[i] = t.replaceAll('\u2581', ' '); types[i] = TokenType.USER_DEFINED; }
  }
  return { tokens, types };
}

/**
 * convert's `LlamaHfVocab` (tokenizer.json with byte fallback and no tokenizer.model): base tokens
 * in id order with score -1000, `<0xXX>` as byte, special added tokens as control; added tokens
 * beyond the base vocab follow.
 */
export function llamaHfVocab(files: TokenizerFiles): VocabArrays {
  const tok = files.tokenizerJson!;
  const vocab = tok.model.vocab as Record<string, number>;
  const baseSize = Object.keys(vocab).length;
  const byId = new Map<number, string>();
  for (const [t, id] of Object.entries(vocab)) byId.set(id, t);
  const addedList = ((tok.added_tokens ?? []) as Json[]).slice().sort((x, y) => x.id - y.id);
  const specialIds = new Set(addedList.filter((a) => a.special).map((a) => a.id as number));
  const addedIds = new Set(addedList.filter((a) => a.id >= baseSize).map((a) => a.id as number));
  const tokens: string[] = [];
  const types: number[] = [];
  for (let id = 0; id < baseSize; id++) {
    if (addedIds.has(id)) continue;
    const t = byId.get(id);
    if (t === undefined) throw new FormatError('VOCAB_GAP', `vocab has no token with id ${id}`, { file: files.tokenizerJsonPath });
    tokens.push(t);
    types.push(/^<0x[0-9A-Fa-f]{2}>$/.test(t) ? TokenType.BYTE : specialIds.has(id) ? TokenType.CONTROL : TokenType.NORMAL);
  }
  for (const a of addedList) {
    if (a.id < baseSize) continue;
    tokens.push(a.content);
    types.push(a.special ? TokenType.CONTROL : TokenType.USER_DEFINED);
  }
  return { tokens, scores: new Float32Array(tokens.length).fill(-1000), types: Int32Array.from(types) };
}
