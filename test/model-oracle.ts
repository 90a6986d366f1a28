/**
 * Test helpers for the forward-pass tests: our logits for a token sequence (the product's forward
 * on the reference engine), and llama.cpp's next-token log-probabilities at every position of the
 * same sequence (node-llama-cpp, CPU), so the two can be compared position by position.
 */
import type { LlamaModel } from 'node-llama-cpp';
import { openModelWeights } from '../src/model/open-model.ts';
import { runDecoder, OutputHead } from '../src/model/forward.ts';
import { createRefEngine, type MatmulEngine } from '../kernels/forward/index.ts';

/** Our logits (nTok × n_vocab) for one sequence, and n_vocab. */
export async function ourLogits(path: string, tokens: number[], engine: MatmulEngine = createRefEngine()): Promise<{ logits: Float32Array; nVocab: number }> {
  const model = await openModelWeights(path);
  try {
    const ctx = { engine };
    const gen = runDecoder(model, { tokens: Int32Array.from(tokens), nSeq: 1, nTok: tokens.length }, ctx);
    let step = await gen.next();
    while (!step.done) step = await gen.next();
    const head = await OutputHead.load(model);
    const logits = new Float32Array(tokens.length * head.nVocab);
    await head.logits(step.value, 0, tokens.length, ctx, logits);
    return { logits, nVocab: head.nVocab };
  } finally {
    await model.close();
  }
}

/** log-softmax of each row, in float64. */
export function logSoftmaxRows(logits: Float32Array, nVocab: number): Float64Array {
  const out = new Float64Array(logits.length);
  for (let r = 0; r < logits.length / nVocab; r++) {
    let max = -Infinity;
    for (let i = 0; i < nVocab; i++) max = Math.max(max, logits[r * nVocab + i]!);
    let sum = 0;
    for (let i = 0; i < nVocab; i++) sum += Math.exp(logits[r * nVocab + i]! - max);
    const lse = max + Math.log(sum);
    for (let i = 0; i < nVocab; i++) out[r * nVocab + i] = logits[r * nVocab + i]! - lse;
  }
  return out;
}

/**
 * llama.cpp's next-token distribution at every position of `tokens` (evaluated as given, no BOS
 * added), as log-probabilities nTok × n_vocab. node-llama-cpp exposes probabilities, not raw
 * logits: logits are log-probabilities up to a per-row constant, so comparing log-softmax rows
 * compares logits with that constant removed.
 */
export async function llamaLogProbs(model: LlamaModel, tokens: number[]): Promise<{ logProbs: Float64Array; nVocab: number }> {
  const context = await model.createContext({ contextSize: Math.max(32, tokens.length), sequences: 1, batchSize: tokens.length, threads: 1, flashAttention: false, experimentalKvCacheKeyType: 'F32', experimentalKvCacheValueType: 'F32' });
  try {
    const seq = context.getSequence();
    const input = tokens.map((t) => [t, { generateNext: { probabilities: true } }] as const);
    const out = await seq.controlledEvaluate(input as never);
    const n = out[0]!.next!.probabilities!.size;
    const logProbs = new Float64Array(tokens.length * n).fill(-Infinity);
    tokens.forEach((_, j) => {
      const probs = out[j]?.next?.probabilities;
      if (!probs) throw new Error(`no probabilities at position ${j}`);
      for (const [tok, p] of probs) logProbs[j * n + (tok as number)] = Math.log(p);
    });
    return { logProbs, nVocab: n };
  } finally {
    await context.dispose();
  }
}
