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
