import { parseSentencePieceModel, SpPieceType } from './sentencepiece-model.ts';
import { looksSpecial, TokenType, type VocabArrays } from './token-types.ts';
import type { TokenizerFiles } from './tokenizer-files.ts';

/**
 * convert's `_create_vocab_sentencepiece`: pieces of tokenizer.model in id order (ids up to
 * config vocab_size; missing ones are `[PADi]`, score -10000, unused), then added_tokens.json and
 * tokenizer_config's added_tokens_decoder override entries with score -1000.
 * Note convert maps USER_DEFINED pieces to NORMAL; only unknown/control/unused/byte keep their type.
 */
export function sentencePieceVocab(files: TokenizerFiles, configVocabSize: number | undefined): VocabArrays {
  const pieces = parseSentencePieceModel(files.sentencePieceModel!, files.sentencePiecePath);
  const n = configVocabSize || pieces.length;
  const tokens = Array.from({ length: n }, (_, i) => `[PAD${i}]`);
  const scores = new Float32Array(n).fill(-10000);
  const types = new Int32Array(n).fill(TokenType.UNUSED);
  const keep = new Set([SpPieceType.UNKNOWN, SpPieceType.CONTROL, SpPieceType.UNUSED, SpPieceType.BYTE]);
  for (let id = 0; id < Math.min(n, pieces.length); id++) {
    const p = pieces[id];
    tokens[id] = p.piece;
    scores[id] = p.score;
    types[id] = keep.has(p.type) ? p.type : TokenType.NORMAL;
  }
  for (const [content, id] of Object.entries(files.addedTokensJson ?? {})) {
    if (typeof id !== 'number' || id >= n) continue;
    tokens[id] = content;
    scores[id] = -1000;
    types[id] = TokenType.USER_DEFINED;
  }
  const decoderEntries = Object.entries((files.tokenizerConfig?.added_tokens_decoder ?? {}) as Record<string, any>);
  for (const [key, data] of decoderEntries) {
    const id = Number(key);
    if (!(id < n)) continue;
    let content = String(data.content);
    if (data.special || looksSpecial(content)) types[id] = TokenType.CONTROL;
    else {
      content = content.replaceAll('\u2581', ' '); // pre-normalize user-defined spaces
      types[id] = TokenType.USER_DEFINED;
    }
    scores[id] = -1000;
    tokens[id] = content;
  }
  return { tokens, scores, types };
}

/**
 * Phi3MiniModel.set_vocab's own SentencePiece vocab: like the shared one up to added_tokens.json,
 * then tokenizer_config's added_tokens_decoder and tokenizer.json's added_tokens both overwrite
 * their ids with score -1000 and CONTROL if `special` else USER_DEFINED, with no "looks special"
 * heuristic, no `▁` rewrite and no id range check (an id past the vocab is a malformed folder here).
 */
export function phi3SentencePieceVocab(files: TokenizerFiles, configVocabSize: number | undefined): VocabArrays {
  const pieces = parseSentencePieceModel(files.sentencePieceModel!, files.sentencePiecePath);
  const n = configVocabSize || pieces.length;
  const base = sentencePieceVocab({ ...files, tokenizerConfig: null }, n);
  const { tokens, scores, types } = base;
  // Unlike the shared path, Phi-3 keeps SentencePiece's USER_DEFINED type as NORMAL too (same rule), so base is right.
  const overwrite = (id: number, content: string, special: boolean, where: string) => {
    if (!(id >= 0 && id < n)) throw new RangeError(`${where}: added token id ${id} is outside the vocabulary of ${n}`);
    tokens[id] = content;
    scores![id] = -1000;
    types[id] = special ? TokenType.CONTROL : TokenType.USER_DEFINED;
  };
  for (const [key, data] of Object.entries((files.tokenizerConfig?.added_tokens_decoder ?? {}) as Record<string, any>)) {
    overwrite(Number(key), String(data.content), !!data.special, 'tokenizer_config.json');
  }
  for (const data of (files.tokenizerJson?.added_tokens ?? []) as any[]) {
    overwrite(Number(data.id), String(data.content), !!data.special, files.tokenizerJsonPath);
  }
  return { tokens, scores, types };
}
