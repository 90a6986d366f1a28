/**
 * Tokenization equal to llama.cpp's (llama-vocab.cpp + unicode.cpp), for SPM ("llama") and
 * byte-level BPE ("gpt2") vocabularies:
 *   const vocab = await vocabFromGguf(path);        // or vocabFromHfFolder(dir), or loadVocab(kvs)
 *   const ids = tokenize(vocab, text, { addSpecial: true, parseSpecial: false });
 *   const text = detokenize(vocab, ids);            // tokenToPiece(vocab, id) for one token's bytes
 */
export { loadVocab, type Vocab } from './vocab.ts';
export { tokenize, type TokenizeOptions } from './tokenize.ts';
export { tokenToPiece, detokenize, detokenizeBytes, type PieceOptions, type DetokenizeOptions } from './detokenize.ts';
export { vocabFromGguf, vocabFromHfFolder } from './sources.ts';
export { ATTR } from './token-attrs.ts';
