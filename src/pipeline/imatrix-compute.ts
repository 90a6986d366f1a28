/**
 * `gguf-forge imatrix`: an importance matrix computed the way llama-imatrix computes it
 * (tools/imatrix/imatrix.cpp `compute_imatrix`), on our layer-streamed forward:
 * - the calibration text is tokenized whole with BOS first (common_tokenize(…, add_special = true)),
 *   cut into consecutive chunks of n_ctx tokens (`--chunks N` of them at most), and each chunk's
 *   first token is replaced by BOS; at least 2·n_ctx tokens are required, as upstream requires;
 * - every matmul input of every chunk goes to the collector (imatrix-collect.ts); the output head
 *   runs only with `--process-output` (its input is all llama-imatrix would take from it; we
 *   compute no perplexity, so without the flag the head is skipped).
 * `computeImatrix` yields progress and returns the matrix; `imatrixCommand` also writes it.
 */
import { availableParallelism } from 'node:os';
import { CancelledError, UsageError } from '../../formats/errors.ts';
import type { Imatrix } from '../../formats/imatrix/imatrix.ts';
import { mergeImatrices, type ImatrixInput } from '../../formats/imatrix/merge-imatrix.ts';
import type { MatmulEngine } from '../../kernels/forward/index.ts';
import { createFastEngine } from '../../kernels/fast/forward-engine.ts';
import { loadVocab, tokenize } from '../../formats/llama-vocab/index.ts';
import { openModelWeights } from '../model/open-model.ts';
import { runDecoder, OutputHead } from '../model/forward.ts';
import { planPasses } from '../model/memory-plan.ts';
import type { ModelWeights } from '../model/weights.ts';
import { addsBos, DEFAULT_MAX_MEMORY } from './eval-plan.ts';
import { loadCalibDocuments } from './calib-text.ts';
import { ImatrixCollector } from './imatrix-collect.ts';
import type { PipelineEvent } from './events.ts';

/** llama-imatrix's default context. */
export const DEFAULT_IMATRIX_CTX = 512;
/** Chunks taken from the default corpus when --chunks is not given (it holds thousands). */
export const DEFAULT_CORPUS_CHUNKS = 128;

export interface ImatrixComputeOptions {
  /** GGUF file or HF folder, or an already-open model (convert --imatrix auto). */
  model: string | ModelWeights;
  /** Text (or JSONL) file; default the calibration corpus (calib-text.ts). */
  calibFile?: string;
  /** Already-tokenized text (no BOS), instead of a file (tests). */
  textTokens?: Int32Array;
  /** Dataset name recorded in the file (default: the calibration file as given, or the corpus's name). */
  dataset?: string;
  ctx?: number;
  chunks?: number;
  processOutput?: boolean;
  threads?: number;
  maxMemory?: number;
  engine?: MatmulEngine;
  signal?: AbortSignal;
  /** Matrices loaded from `--in-file`s: collection continues on top of them (llama-imatrix). */
  inFiles?: ImatrixInput[];
}

export interface ImatrixComputed {
  imatrix: Imatrix;
  ctx: number;
  chunks: number;
  tokens: number;
  seqPerPass: number;
  engine: string;
  seconds: number;
  /** Calibration tokens through the forward per second (the forward and the collection). */
  tokensPerSecond: number;
  source: string;
}

export async function* computeImatrix(opts: ImatrixComputeOptions): AsyncGenerator<PipelineEvent, ImatrixComputed> {
  const started = performance.now();
  const own = typeof opts.model === 'string';
  if (own) yield { type: 'phase', phase: 'imatrix', message: `opening ${opts.model as string}` };
  const model = typeof opts.model === 'string' ? await openModelWeights(opts.model) : opts.model;
  let engine = opts.engine;
  try {
    const nCtx = opts.ctx ?? Math.min(DEFAULT_IMATRIX_CTX, model.hparams.ctxTrain || DEFAULT_IMATRIX_CTX);
    if (!Number.isInteger(nCtx) || nCtx < 1) throw new UsageError('BAD_CTX', `--ctx must be a positive integer, got ${nCtx}`);
    if (opts.chunks !== undefined && (!Number.isInteger(opts.chunks) || opts.chunks < 1)) throw new UsageError('BAD_CHUNKS', `--chunks must be a positive integer, got ${opts.chunks}`);
    const bos = addsBos(model);
    const text = yield* calibTokens(model, opts, nCtx);
    // Not Int32Array.of(bos, ...tokens): spreading a whole corpus overflows the call stack.
    const tokens = bos >= 0 ? withBos(bos, text.tokens) : text.tokens;
    if (tokens.length < 2 * nCtx) {
      // llama-imatrix: "you need at least %d tokens for a context of %d tokens" / "the data file you provided tokenizes to only %zu tokens"
      throw new UsageError('TEXT_TOO_SHORT', `you need at least ${2 * nCtx} tokens for a context of ${nCtx} tokens: ${text.source} tokenizes to only ${tokens.length} tokens`, { file: text.source });
    }
    const maxChunks = Math.floor(tokens.length / nCtx);
    const nChunks = Math.min(opts.chunks ?? (opts.calibFile || opts.textTokens ? maxChunks : DEFAULT_CORPUS_CHUNKS), maxChunks);
    const budget = (opts.maxMemory ?? DEFAULT_MAX_MEMORY) - process.memoryUsage().rss;
    const pass = planPasses([model], nCtx, nChunks, budget);
    engine ??= await createFastEngine({ threads: opts.threads ?? availableParallelism() });
    yield { type: 'phase', phase: 'imatrix', message: `${nChunks} chunks of ${nCtx} tokens from ${text.source}, ${pass.seqPerPass} per pass, ${engine.name} kernels${opts.processOutput ? ', with output.weight' : ''}` };
    // Loaded after the context is known: a .dat file's sums are rescaled by the chunk size (upstream's order too).
    const base = opts.inFiles?.length ? mergeImatrices(opts.inFiles, nCtx) : undefined;
    if (base) yield { type: 'phase', phase: 'imatrix', message: `continuing from ${opts.inFiles!.length} imatrix file(s): ${base.entries.size} entries, ${base.chunkCount} chunks` };
    const collector = new ImatrixCollector({ processOutput: opts.processOutput, base });
    const ctx = { engine, observer: collector.observe, signal: opts.signal };
    const t0 = performance.now();
    const rate = (done: number) => (done * nCtx) / Math.max(1e-9, (performance.now() - t0) / 1000);
    yield { type: 'imatrix', state: 'start', chunksDone: 0, chunksTotal: nChunks, tokensPerSecond: 0 };
    for (let c0 = 0; c0 < nChunks; c0 += pass.seqPerPass) {
      const nSeq = Math.min(pass.seqPerPass, nChunks - c0);
      const batch = new Int32Array(tokens.subarray(c0 * nCtx, (c0 + nSeq) * nCtx));
      if (bos >= 0) for (let s = 0; s < nSeq; s++) batch[s * nCtx] = bos;
      const gen = runDecoder(model, { tokens: batch, nSeq, nTok: nCtx }, ctx);
      let step = await gen.next();
      while (!step.done) {
        yield { type: 'imatrix', state: 'layer', layer: step.value.layer, nLayer: step.value.nLayer, chunksDone: c0, chunksTotal: nChunks, tokensPerSecond: rate(c0) };
        step = await gen.next();
      }
      if (opts.processOutput) {
        const head = await OutputHead.load(model);
        const logits = new Float32Array(nCtx * head.nVocab);
        for (let s = 0; s < nSeq; s++) {
          if (opts.signal?.aborted) throw new CancelledError();
          await head.logits(step.value, s, nCtx, ctx, logits);
        }
      }
      yield { type: 'imatrix', state: 'chunk', chunksDone: c0 + nSeq, chunksTotal: nChunks, tokensPerSecond: rate(c0 + nSeq), entries: collector.size };
    }
    const forwardSeconds = (performance.now() - t0) / 1000;
    const imatrix = collector.result({ datasets: [...(base?.datasets ?? []), opts.dataset ?? text.source], chunkSize: nCtx });
    return {
      imatrix, ctx: nCtx, chunks: nChunks, tokens: nChunks * nCtx, seqPerPass: pass.seqPerPass, engine: engine.name,
      seconds: (performance.now() - started) / 1000, tokensPerSecond: (nChunks * nCtx) / forwardSeconds, source: text.source,
    };
  } finally {
    if (!opts.engine) await engine?.close();
    if (own) await model.close();
  }
}

/**
 * The calibration text's tokens (no BOS). A file is tokenized whole, as llama-imatrix does; the
 * default corpus (thousands of chunks) only as far as the chunks asked for, its documents joined
 * by blank lines in their sorted order.
 */
async function* calibTokens(model: ModelWeights, opts: ImatrixComputeOptions, nCtx: number): AsyncGenerator<PipelineEvent, { tokens: Int32Array; source: string }> {
  if (opts.textTokens) return { tokens: opts.textTokens, source: opts.dataset ?? 'given tokens' };
  const corpus = await loadCalibDocuments(opts.calibFile);
  const vocab = loadVocab(model.kvs);
  const tok = (s: string) => tokenize(vocab, s, { addSpecial: false, parseSpecial: false });
  yield { type: 'phase', phase: 'imatrix', message: `tokenizing ${corpus.source}` };
  if (opts.calibFile !== undefined) return { tokens: tok(corpus.docs.join('\n\n')), source: opts.calibFile };
  const want = (opts.chunks ?? DEFAULT_CORPUS_CHUNKS) * nCtx;
  let take = 0;
  let chars = 0;
  let target = want * 6;
  let tokens: Int32Array = new Int32Array(0);
  // ~4 characters a token for English text; grow until the tokens suffice or the corpus ends.
  while (take < corpus.docs.length) {
    while (take < corpus.docs.length && chars < target) chars += corpus.docs[take++]!.length + 2;
    tokens = tok(corpus.docs.slice(0, take).join('\n\n'));
    if (tokens.length >= want) break;
    target = Math.ceil(target * 1.5);
  }
  return { tokens, source: corpus.source };
}

function withBos(bos: number, tokens: Int32Array): Int32Array {
  const out = new Int32Array(tokens.length + 1);
  out[0] = bos;
  out.set(tokens, 1);
  return out;
}
