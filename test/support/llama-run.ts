/**
 * Model-level checks run in llama.cpp itself, through node-llama-cpp (CPU only, prebuilt binaries,
 * never compiles): greedy completion and perplexity computed the way `llama-perplexity` does it,
 * plus KL divergence between two models' next-token distributions. No logits file is written:
 * distributions are compared position by position as they are produced.
 */
import type { Llama, LlamaModel } from 'node-llama-cpp';

let llamaPromise: Promise<Llama> | undefined;

export async function getCpuLlama(): Promise<Llama> {
  if (!llamaPromise) {
    llamaPromise = import('node-llama-cpp').then(({ getLlama, LlamaLogLevel }) =>
      getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error, progressLogs: false, skipDownload: true }),
    );
  }
  return llamaPromise;
}

export async function loadModel(modelPath: string): Promise<LlamaModel> {
  const llama = await getCpuLlama();
  return llama.loadModel({ modelPath });
}

/** Greedy completion of `prompt` (BOS added, as llama.cpp does for this tokenizer). */
export async function greedyCompletion(model: LlamaModel, prompt: string, maxTokens: number): Promise<string> {
  const { LlamaCompletion } = await import('node-llama-cpp');
  const context = await model.createContext({ contextSize: 256, sequences: 1, threads: 1 });
  try {
    const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
    return await completion.generateCompletion(prompt, { maxTokens, temperature: 0 });
  } finally {
    await context.dispose();
  }
}

/**
 * Next-token probability distributions over chunks of `nCtx` tokens, scored the way
 * llama-perplexity scores them: the text is tokenized with BOS, cut into whole chunks, each
 * chunk's first token replaced by BOS, and only positions in the second half are scored.
 * `visit(chunk, j, probs, nextToken)` sees the distribution at position j predicting token j+1.
 */
async function forEachScoredPosition(
  model: LlamaModel,
  text: string,
  nCtx: number,
  visit: (chunk: number, j: number, probs: Float64Array, next: number) => void,
): Promise<number> {
  const tokens = Array.from(model.tokenize(text, false));
  const bos = model.tokens.bos;
  if (bos == null) throw new Error('model has no BOS token');
  tokens.unshift(bos);
  const nChunks = Math.floor(tokens.length / nCtx);
  const context = await model.createContext({ contextSize: nCtx, sequences: 1, batchSize: nCtx, threads: 1 });
  try {
    const seq = context.getSequence();
    const first = nCtx / 2;
    for (let c = 0; c < nChunks; c++) {
      const chunk = tokens.slice(c * nCtx, (c + 1) * nCtx);
      chunk[0] = bos;
      await seq.clearHistory();
      const input = chunk.map((t, j) =>
        j >= first && j < nCtx - 1 ? ([t, { generateNext: { probabilities: true } }] as const) : t,
      );
      const out = await seq.controlledEvaluate(input as never);
      for (let j = first; j < nCtx - 1; j++) {
        const probsMap = out[j]?.next?.probabilities;
        if (!probsMap) throw new Error(`no probabilities at chunk ${c} position ${j}`);
        const probs = new Float64Array(probsMap.size);
        for (const [tok, p] of probsMap) probs[tok as number] = p;
        visit(c, j, probs, chunk[j + 1] as number);
      }
    }
  } finally {
    await context.dispose();
  }
  return nChunks;
}

/** Perplexity over `text` with context `nCtx`, as llama-perplexity computes it. */
export async function perplexity(model: LlamaModel, text: string, nCtx: number): Promise<{ ppl: number; chunks: number; scored: number }> {
  let nll = 0;
  let scored = 0;
  const chunks = await forEachScoredPosition(model, text, nCtx, (_c, _j, probs, next) => {
    nll -= Math.log(probs[next]!);
    scored++;
  });
  return { ppl: Math.exp(nll / scored), chunks, scored };
}

/** Mean and max KL(P_base || P_test) over the scored positions, plus top-1 agreement. */
export async function klDivergence(base: LlamaModel, test: LlamaModel, text: string, nCtx: number): Promise<{ meanKl: number; maxKl: number; top1Agreement: number }> {
  const baseDists: Float64Array[] = [];
  await forEachScoredPosition(base, text, nCtx, (_c, _j, probs) => baseDists.push(probs));
  let i = 0;
  let sum = 0;
  let max = 0;
  let agree = 0;
  await forEachScoredPosition(test, text, nCtx, (_c, _j, q) => {
    const p = baseDists[i++]!;
    let kl = 0;
    let pArg = 0;
    let qArg = 0;
    for (let t = 0; t < p.length; t++) {
      if (p[t]! > 0) kl += p[t]! * Math.log(p[t]! / Math.max(q[t] ?? 0, 1e-30));
      if (p[t]! > p[pArg]!) pArg = t;
      if ((q[t] ?? 0) > (q[qArg] ?? 0)) qArg = t;
    }
    sum += kl;
    max = Math.max(max, kl);
    if (pArg === qArg) agree++;
  });
  return { meanKl: sum / i, maxKl: max, top1Agreement: agree / i };
}
