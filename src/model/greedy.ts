/**
 * Greedy decoding on the forward (argmax at each step), for checks against llama.cpp's own text.
 * There is no KV cache: each step re-runs the whole sequence, which is fine for the short
 * completions it is used for and keeps the forward a single code path.
 */
import type { MatmulEngine } from '../../kernels/forward/index.ts';
import { runDecoder, OutputHead } from './forward.ts';
import type { ModelWeights } from './weights.ts';

export async function greedyTokens(model: ModelWeights, prompt: ArrayLike<number>, maxNew: number, engine: MatmulEngine, stop: ReadonlySet<number> = new Set()): Promise<number[]> {
  const seq = Array.from(prompt);
  const ctx = { engine };
  const head = await OutputHead.load(model);
  const out: number[] = [];
  for (let step = 0; step < maxNew; step++) {
    const gen = runDecoder(model, { tokens: Int32Array.from(seq), nSeq: 1, nTok: seq.length }, ctx);
    let r = await gen.next();
    while (!r.done) r = await gen.next();
    const logits = new Float32Array(seq.length * head.nVocab);
    await head.logits(r.value, 0, seq.length, ctx, logits);
    const last = logits.subarray((seq.length - 1) * head.nVocab);
    let best = 0;
    for (let i = 1; i < head.nVocab; i++) if (last[i]! > last[best]!) best = i;
    if (stop.has(best)) break;
    out.push(best);
    seq.push(best);
  }
  return out;
}
