/**
 * The plan of an `eval` run, made before any forward: the models opened and checked against each
 * other, the text tokenized and cut into chunks exactly as llama-perplexity cuts it, and the number
 * of sequences per layer-streamed pass the memory budget allows.
 */
import { UsageError } from '../../formats/errors.ts';
import { kvValue } from '../model/hparams.ts';
import { loadVocab, tokenize } from '../../formats/llama-vocab/index.ts';
import { planPasses, type PassPlan } from '../model/memory-plan.ts';
import type { ModelWeights } from '../model/weights.ts';

export const DEFAULT_EVAL_CTX = 512;
export const DEFAULT_MAX_MEMORY = 1024 ** 3;

/** Token ids of a text, no BOS or EOS added (the caller adds BOS as llama.cpp would). */
export type EvalTokenizer = (model: ModelWeights, text: string) => Promise<Int32Array>;

export interface EvalPlan {
  /** The text's tokens, with BOS first when the model adds one (common_tokenize(…, add_special = true)). */
  tokens: Int32Array;
  /** BOS id written over each chunk's first token, or -1 when the vocabulary adds no BOS. */
  bos: number;
  nCtx: number;
  nChunks: number;
  /** Positions scored per chunk: n_ctx/2 .. n_ctx-2 predict the next token. */
  first: number;
  pass: PassPlan;
  budgetBytes: number;
}

/** The BOS id llama.cpp puts at each chunk start, or -1 when the vocabulary adds none (llama_vocab_get_add_bos). */
export function addsBos(model: ModelWeights): number {
  const vocab = loadVocab(model.kvs);
  return vocab.addBos && vocab.special.bos !== null ? vocab.special.bos : -1;
}

/** The text's tokens as llama.cpp's tokenizer gives them, without BOS/EOS and with special texts as text. */
export const llamaTokenizer: EvalTokenizer = async (model, text) => tokenize(loadVocab(model.kvs), text, { addSpecial: false, parseSpecial: false });

/** The checks llama-perplexity makes (and the KL mode's vocabulary check), as typed errors. */
export function checkPair(model: ModelWeights, ref: ModelWeights | undefined, nCtx: number): void {
  if (!Number.isInteger(nCtx) || nCtx < 4 || nCtx % 2 !== 0) throw new UsageError('BAD_CTX', `--ctx must be an even integer ≥ 4, got ${nCtx}`);
  for (const m of ref ? [model, ref] : [model]) {
    if (nCtx > m.hparams.ctxTrain) {
      throw new UsageError('CTX_TOO_LARGE', `--ctx ${nCtx} is larger than the context ${m.hparams.ctxTrain} ${m.path} was trained for`, { file: m.path });
    }
  }
  if (!ref) return;
  const a = model.hparams.nVocab;
  const b = ref.hparams.nVocab;
  if (a !== b) throw new UsageError('VOCAB_MISMATCH', `${model.path} has a vocabulary of ${a} tokens but the reference ${ref.path} has ${b}: their distributions cannot be compared`, { file: model.path });
  const ta = kvValue(model.kvs, 'tokenizer.ggml.tokens') as ArrayLike<string> | undefined;
  const tb = kvValue(ref.kvs, 'tokenizer.ggml.tokens') as ArrayLike<string> | undefined;
  if (ta && tb) {
    for (let i = 0; i < ta.length; i++) {
      if (ta[i] !== tb[i]) {
        throw new UsageError('VOCAB_MISMATCH', `${model.path} and the reference ${ref.path} have different vocabularies: token ${i} is ${JSON.stringify(ta[i])} in one and ${JSON.stringify(tb[i])} in the other`, { file: model.path });
      }
    }
  }
}

export function planChunks(model: ModelWeights, ref: ModelWeights | undefined, textTokens: Int32Array, opts: { nCtx: number; chunks?: number; budgetBytes: number; textSource: string }): EvalPlan {
  const { nCtx } = opts;
  const bos = addsBos(model);
  const tokens = bos >= 0 ? Int32Array.of(bos, ...textTokens) : textTokens;
  if (tokens.length < 2 * nCtx) {
    throw new UsageError('TEXT_TOO_SHORT', `${opts.textSource} tokenizes to ${tokens.length} tokens; perplexity with a context of ${nCtx} needs at least ${2 * nCtx} (two chunks, as llama-perplexity requires)`, { file: opts.textSource });
  }
  const maxChunks = Math.floor(tokens.length / nCtx);
  if (opts.chunks !== undefined && (!Number.isInteger(opts.chunks) || opts.chunks < 1)) throw new UsageError('BAD_CHUNKS', `--chunks must be a positive integer, got ${opts.chunks}`);
  const nChunks = Math.min(opts.chunks ?? maxChunks, maxChunks);
  const pass = planPasses(ref ? [model, ref] : [model], nCtx, nChunks, opts.budgetBytes);
  return { tokens, bos, nCtx, nChunks, first: nCtx / 2, pass, budgetBytes: opts.budgetBytes };
}
