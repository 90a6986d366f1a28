/**
 * `gguf-forge eval`: perplexity of a model on a text, computed exactly as llama-perplexity does
 * (BOS at each chunk start, only the second half of each chunk scored, its ± estimate), and with a
 * reference model the KL divergence statistics of `llama-perplexity --kl-divergence` — in one pass
 * over the same chunks with no logits file: for each pass of sequences both models run block by
 * block, then their output heads produce one sequence's logits at a time, compared and dropped.
 */
import { availableParallelism } from 'node:os';
import { CancelledError } from '../../formats/errors.ts';
import type { MatmulEngine } from '../../kernels/forward/index.ts';
import { createFastEngine } from '../../kernels/fast/forward-engine.ts';
import { openModelWeights } from '../model/open-model.ts';
import { runDecoder, OutputHead, type ForwardContext } from '../model/forward.ts';
import type { ModelWeights } from '../model/weights.ts';
import { PerplexityAccumulator, KlAccumulator, type PerplexityResult, type KlResult } from './eval-stats.ts';
import { checkPair, planChunks, llamaTokenizer, DEFAULT_EVAL_CTX, DEFAULT_MAX_MEMORY, type EvalTokenizer, type EvalPlan } from './eval-plan.ts';
import { loadEvalText } from './eval-text.ts';
import type { PipelineEvent } from './events.ts';

export interface EvalOptions {
  /** GGUF file, HF folder or AWQ/GPTQ folder. */
  model: string;
  /** The reference (the original), same kinds. */
  ref?: string;
  /** Text file; default the bundled Moby-Dick chapters. */
  textFile?: string;
  /** Already-tokenized text (no BOS), instead of a text file. */
  textTokens?: Int32Array;
  /** Tokenizer for the text; default llama.cpp's (formats/llama-vocab) from the model's vocabulary. */
  tokenize?: EvalTokenizer;
  /** Tokens per chunk; default 512, or the shorter context a model was trained on. */
  ctx?: number;
  chunks?: number;
  threads?: number;
  /** Bytes; default 1 GiB. The process's memory at start counts against it. */
  maxMemory?: number;
  /** The kernels to run on; default the fast engine (wasm SIMD) on `threads` workers. */
  engine?: MatmulEngine;
  signal?: AbortSignal;
}

export interface EvalModelInfo {
  path: string;
  kind: string;
  arch: string;
  storage: string;
  perplexity: PerplexityResult;
}

export interface EvalSummary {
  model: EvalModelInfo;
  ref?: EvalModelInfo;
  /** With a reference: llama-perplexity's KL divergence and token probability statistics. */
  kl?: KlResult;
  text: { source: string; tokens: number };
  ctx: number;
  chunks: number;
  scoredPositions: number;
  seqPerPass: number;
  engine: string;
  seconds: number;
  tokensPerSecond: number;
}

export async function* evalModel(opts: EvalOptions): AsyncGenerator<PipelineEvent, EvalSummary> {
  const started = performance.now();
  yield { type: 'phase', phase: 'eval', message: `opening ${opts.model}${opts.ref ? ` and reference ${opts.ref}` : ''}` };
  const model = await openModelWeights(opts.model);
  let ref: ModelWeights | undefined;
  let engine: MatmulEngine | undefined = opts.engine;
  try {
    if (opts.ref) ref = await openModelWeights(opts.ref);
    // Without --ctx: llama-perplexity's 512, or less when a model was trained on shorter contexts.
    const nCtx = opts.ctx ?? Math.min(DEFAULT_EVAL_CTX, ...[model, ...(ref ? [ref] : [])].map((m) => m.hparams.ctxTrain - (m.hparams.ctxTrain % 2)));
    checkPair(model, ref, nCtx);
    const text = opts.textTokens ? { tokens: opts.textTokens, source: 'given tokens' } : await tokenizeText(model, opts);
    const budget = (opts.maxMemory ?? DEFAULT_MAX_MEMORY) - process.memoryUsage().rss;
    const plan = planChunks(model, ref, text.tokens, { nCtx, chunks: opts.chunks, budgetBytes: budget, textSource: text.source });
    if (plan.pass.minBytes > budget) {
      yield { type: 'warning', code: 'MEMORY_BUDGET', message: `one sequence per pass needs about ${mib(plan.pass.minBytes)} MiB, more than the ${mib(Math.max(0, budget))} MiB left of --max-memory; running one sequence per pass anyway` };
    }
    engine ??= await createFastEngine({ threads: opts.threads ?? availableParallelism() });
    yield { type: 'phase', phase: 'eval', message: `${plan.nChunks} chunks of ${nCtx} tokens, ${plan.pass.seqPerPass} per pass (~${mib(plan.pass.peakBytes)} MiB), ${engine.name} kernels` };
    const stats = yield* runPasses(model, ref, plan, { engine, signal: opts.signal });
    const seconds = (performance.now() - started) / 1000;
    const info = (m: ModelWeights, p: PerplexityResult): EvalModelInfo => ({ path: m.path, kind: m.kind, arch: m.hparams.arch, storage: m.storage, perplexity: p });
    return {
      model: info(model, stats.ppl.result()),
      ...(ref ? { ref: info(ref, stats.refPpl!.result()), kl: stats.kl!.result() } : {}),
      text: { source: text.source, tokens: plan.tokens.length },
      ctx: nCtx, chunks: plan.nChunks, scoredPositions: stats.ppl.count, seqPerPass: plan.pass.seqPerPass,
      engine: engine.name, seconds, tokensPerSecond: (plan.nChunks * nCtx) / stats.forwardSeconds,
    };
  } finally {
    if (!opts.engine) await engine?.close();
    await model.close();
    await ref?.close();
  }
}

async function tokenizeText(model: ModelWeights, opts: EvalOptions): Promise<{ tokens: Int32Array; source: string }> {
  const { text, source } = await loadEvalText(opts.textFile);
  return { tokens: await (opts.tokenize ?? llamaTokenizer)(model, text), source };
}

interface PassStats {
  ppl: PerplexityAccumulator;
  refPpl?: PerplexityAccumulator;
  kl?: KlAccumulator;
  forwardSeconds: number;
}

async function* runPasses(model: ModelWeights, ref: ModelWeights | undefined, plan: EvalPlan, ctx: ForwardContext): AsyncGenerator<PipelineEvent, PassStats> {
  const { nCtx, nChunks, first, tokens } = plan;
  const stats: PassStats = { ppl: new PerplexityAccumulator(), ...(ref ? { refPpl: new PerplexityAccumulator(), kl: new KlAccumulator() } : {}), forwardSeconds: 0 };
  const t0 = performance.now();
  const rate = (done: number) => (done * nCtx) / Math.max(1e-9, (performance.now() - t0) / 1000);
  yield { type: 'eval', state: 'start', chunksDone: 0, chunksTotal: nChunks, tokensPerSecond: 0 };
  for (let c0 = 0; c0 < nChunks; c0 += plan.pass.seqPerPass) {
    const nSeq = Math.min(plan.pass.seqPerPass, nChunks - c0);
    const batch = new Int32Array(tokens.subarray(c0 * nCtx, (c0 + nSeq) * nCtx));
    if (plan.bos >= 0) for (let s = 0; s < nSeq; s++) batch[s * nCtx] = plan.bos;
    const hidden: Float32Array[] = [];
    for (const [role, m] of ref ? ([['model', model], ['ref', ref]] as const) : ([['model', model]] as const)) {
      const gen = runDecoder(m, { tokens: batch, nSeq, nTok: nCtx }, ctx);
      let step = await gen.next();
      while (!step.done) {
        yield { type: 'eval', state: 'layer', model: role, layer: step.value.layer, nLayer: step.value.nLayer, chunksDone: c0, chunksTotal: nChunks, tokensPerSecond: rate(c0) };
        step = await gen.next();
      }
      hidden.push(step.value);
    }
    const heads = [await OutputHead.load(model), ...(ref ? [await OutputHead.load(ref)] : [])];
    const logits = heads.map((h) => new Float32Array(nCtx * h.nVocab));
    const nVocab = heads[0]!.nVocab;
    for (let s = 0; s < nSeq; s++) {
      if (ctx.signal?.aborted) throw new CancelledError();
      for (let i = 0; i < heads.length; i++) await heads[i]!.logits(hidden[i]!, s, nCtx, ctx, logits[i]!);
      const start = (c0 + s) * nCtx;
      for (let j = first; j < nCtx - 1; j++) {
        const next = tokens[start + j + 1]!;
        const row = (i: number) => logits[i]!.subarray(j * nVocab, (j + 1) * nVocab);
        stats.ppl.add(row(0), nVocab, next);
        if (ref) {
          stats.refPpl!.add(row(1), nVocab, next);
          stats.kl!.add(row(0), row(1), nVocab, next);
        }
      }
      const done = c0 + s + 1;
      yield {
        type: 'eval', state: 'chunk', chunksDone: done, chunksTotal: nChunks, tokensPerSecond: rate(done),
        ppl: Math.exp(stats.ppl.result().meanNll), ...(stats.kl ? { klMean: stats.kl.meanKl } : {}),
      };
    }
  }
  stats.forwardSeconds = (performance.now() - t0) / 1000;
  return stats;
}

const mib = (b: number) => Math.round(b / 1024 ** 2);
