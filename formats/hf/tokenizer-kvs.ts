import path from 'node:path';
import { FormatError, UnsupportedError } from '../errors.ts';
import { arr, bool, GgufValueType, str } from '../gguf/value-types.ts';
import type { ArchSpec } from './architectures.ts';
import type { HfConfig } from './config.ts';
import type { KvList } from './kv-list.ts';
import { detectPreTokenizer } from './pre-tokenizer-detect.ts';
import { SpecialVocab } from './special-vocab.ts';
import type { TokenizerFiles } from './tokenizer-files.ts';
import type { VocabArrays } from './token-types.ts';
import { gpt2Vocab, isByteFallbackBpe, llamaHfVocab } from './vocab-bpe.ts';
import { phi3SentencePieceVocab, sentencePieceVocab } from './vocab-sentencepiece.ts';

export type Warning = { code: string; message: string };

/**
 * Append the `tokenizer.*` keys convert's `set_vocab` writes, trying the arch's tokenizer sources in
 * its order: tokenizer.model (SentencePiece, "llama"), tokenizer.json with byte fallback ("llama"),
 * byte-level tokenizer.json ("gpt2", with the pre-tokenizer detected as convert does).
 */
export function addTokenizerKvs(kv: KvList, files: TokenizerFiles, config: HfConfig, arch: ArchSpec, opts: { pre?: string }): Warning[] {
  const warnings: Warning[] = [];
  const tc = files.tokenizerConfig;
  if (arch.addSpacePrefixFromTokenizerConfig && typeof tc?.add_prefix_space === 'boolean') {
    kv.set('tokenizer.ggml.add_space_prefix', bool(tc.add_prefix_space));
  }
  const tok = files.tokenizerJson;
  for (const source of arch.vocabOrder) {
    if (source === 'phi3-sentencepiece') {
      // Phi-4 ships a GPT2Tokenizer under the same architecture.
      if (tc?.tokenizer_class === 'GPT2Tokenizer' && tok?.model?.type === 'BPE') return addGpt2(kv, files, config, opts, warnings);
      if (!files.sentencePieceModel) throw new FormatError('MISSING_TOKENIZER', `${files.sentencePiecePath}: not found; ${config.architecture} needs tokenizer.model`, { file: files.sentencePiecePath });
      const v = phi3SentencePieceVocab(files, config.vocabSize);
      checkVocabCount(v, config, files.sentencePiecePath);
      writeVocab(kv, 'llama', 'default', v);
      new SpecialVocab(files, { loadMerges: false, nVocab: v.tokens.length }).addTo(kv);
      return warnings;
    }
    if (source === 'sentencepiece' && files.sentencePieceModel) {
      const v = sentencePieceVocab(files, config.vocabSize);
      checkVocabCount(v, config, files.sentencePiecePath);
      writeVocab(kv, 'llama', 'default', v);
      new SpecialVocab(files, { loadMerges: false, nVocab: v.tokens.length }).addTo(kv);
      return warnings;
    }
    if (source === 'llama-hf' && isByteFallbackBpe(tok)) {
      const v = llamaHfVocab(files);
      checkVocabCount(v, config, files.tokenizerJsonPath);
      writeVocab(kv, 'llama', 'default', v);
      new SpecialVocab(files, { loadMerges: false, nVocab: v.tokens.length }).addTo(kv);
      return warnings;
    }
    if (source === 'gpt2' && tok?.model?.type === 'BPE') return addGpt2(kv, files, config, opts, warnings);
  }
  const tokPath = path.join(files.dir, 'tokenizer.json');
  if (tok) {
    throw new UnsupportedError('UNSUPPORTED_TOKENIZER', `${tokPath}: tokenizer model type '${tok.model?.type}' is not supported (need BPE) and there is no tokenizer.model`, { file: tokPath });
  }
  throw new FormatError('MISSING_TOKENIZER', `${files.dir}: no tokenizer found (expected tokenizer.model or tokenizer.json)`, { file: tokPath });
}

/**
 * llama.cpp sizes token_embd and output by the token count, so a vocabulary that is not exactly
 * config.json's vocab_size (which validateConfigAgainstTensors tied to the embedding rows) makes a
 * file it refuses ("token_embd.weight has wrong shape"). Checked for every tokenizer path.
 */
function checkVocabCount(v: VocabArrays, config: HfConfig, file: string): void {
  if (v.tokens.length === config.vocabSize) return;
  throw new FormatError(
    'VOCAB_SIZE',
    `${file}: defines ${v.tokens.length} tokens but ${config.file} has vocab_size ${config.vocabSize} (the embedding's row count); llama.cpp would refuse the file`,
    { file, field: 'vocab_size' },
  );
}

/** `_set_vocab_gpt2`: byte-level BPE, its pre-tokenizer named by the chktxt hash of the HF tokenizer. */
function addGpt2(kv: KvList, files: TokenizerFiles, config: HfConfig, opts: { pre?: string }, warnings: Warning[]): Warning[] {
  const detected = detectPreTokenizer(files.tokenizerJson!, files.tokenizerJsonPath, opts.pre, { tokenizerConfig: files.tokenizerConfig, modelType: config.modelType });
  warnings.push(...detected.warnings);
  const v = gpt2Vocab(files, config.vocabSize);
  checkVocabCount(v, config, files.tokenizerJsonPath);
  writeVocab(kv, 'gpt2', detected.pre, v);
  new SpecialVocab(files, { loadMerges: true }).addTo(kv);
  return warnings;
}

function writeVocab(kv: KvList, model: 'llama' | 'gpt2', pre: string, v: VocabArrays): void {
  kv.set('tokenizer.ggml.model', str(model));
  kv.set('tokenizer.ggml.pre', str(pre));
  kv.set('tokenizer.ggml.tokens', arr(GgufValueType.STRING, v.tokens));
  if (v.scores) kv.set('tokenizer.ggml.scores', arr(GgufValueType.FLOAT32, v.scores));
  kv.set('tokenizer.ggml.token_type', arr(GgufValueType.INT32, v.types));
}

