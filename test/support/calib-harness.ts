/**
 * A small in-process stand-in for the calibration layer loop, for the AWQ tests: runs a
 * `LayerMethod` layer by layer on one batch of samples (BlockRunner halves, with input and output
 * observers and early stop), and evaluates perplexity of a model with substituted weights.
 */
import { embedTokens, BlockRunner, runDecoder, OutputHead, type ForwardContext } from '../../src/model/forward.ts';
import { loadLayer, blockTensor, type LayerWeights } from '../../src/model/layer-weights.ts';
import type { ModelWeights, WeightMatrix } from '../../src/model/weights.ts';
import { rmsNorm, addInPlace, type MatmulEngine } from '../../kernels/forward/index.ts';
import { PerplexityAccumulator } from '../../src/pipeline/eval-stats.ts';
import { addsBos, llamaTokenizer } from '../../src/pipeline/eval-plan.ts';
import { dequantizeRows } from '../../kernels/groupwise/dequantize.ts';
import type { QuantizedMatrix, GroupwiseSpec } from '../../kernels/groupwise/spec.ts';
import type { BlockModule, ForwardPass, LayerMethod, LayerResult } from '../../src/calibrate/layer-method.ts';

const FFN_STOPS = new Set(['ffn_gate', 'ffn_up']);

/** One pass of block `il` over all samples (one sub-batch), as LayerContext.forward promises it. */
async function forwardPass(model: ModelWeights, runner: BlockRunner, il: number, inputs: Float32Array, nSeq: number, engine: MatmulEngine, pass: ForwardPass): Promise<void> {
  const hp = model.hparams, T = runner.T, W = pass.weights;
  const batch = { start: 0, count: nSeq };
  const x = inputs.slice();
  const cur = new Float32Array(T * hp.nEmbd), out = new Float32Array(T * hp.nEmbd);
  const ctx: ForwardContext = { engine, observer: pass.observe ? (inp) => pass.observe!(inp, batch) : undefined };
  const emit = (m: string, y: Float32Array) => pass.observeOutput?.({ tensor: blockTensor(il, `${m}.weight`), layer: il, y, nTokens: T, rows: hp.nEmbd }, batch);
  rmsNorm(x, T, hp.nEmbd, W.attnNorm, hp.eps, cur);
  await runner.attention(il, W, cur, out, ctx);
  await emit('attn_output', out);
  const stop = pass.stopAfter ?? 'end';
  if (stop !== 'end' && stop !== 'ffn_down' && !FFN_STOPS.has(stop)) return;
  addInPlace(x, out);
  rmsNorm(x, T, hp.nEmbd, W.ffnNorm, hp.eps, cur);
  if (FFN_STOPS.has(stop)) {
    for (const m of ['ffn_gate', 'ffn_up']) await ctx.observer?.({ tensor: blockTensor(il, `${m}.weight`), layer: il, x: cur, nTokens: T, cols: hp.nEmbd });
    return;
  }
  await runner.ffn(il, W, cur, out, ctx);
  await emit('ffn_down', out);
}

export interface CalibratedLayer extends LayerResult {
  layer: number;
}

/** Runs `method` over every layer of `model` on the samples `tokens` (nSeq × nTok). */
export async function calibrateModel(model: ModelWeights, tokens: Int32Array, nSeq: number, nTok: number, method: LayerMethod, spec: GroupwiseSpec, modules: ReadonlySet<BlockModule>, engine: MatmulEngine): Promise<CalibratedLayer[]> {
  const hp = model.hparams;
  const x = await embedTokens(model, tokens);
  const runner = await BlockRunner.create(model, nSeq, nTok);
  const out: CalibratedLayer[] = [];
  for (let il = 0; il < hp.nLayer; il++) {
    const weights = await loadLayer(model, il);
    const r = await method.quantizeLayer({
      model, layer: il, nLayer: hp.nLayer, weights, inputs: x, nSeq, nTok, spec, modules, engine,
      forward: (pass) => forwardPass(model, runner, il, x, nSeq, engine, pass),
      status: () => {},
    });
    await runner.run(il, r.next, x, { engine });
    out.push({ layer: il, ...r });
  }
  return out;
}

const MATRIX_NAME: Record<BlockModule, string> = { attn_q: 'attn_q', attn_k: 'attn_k', attn_v: 'attn_v', attn_output: 'attn_output', ffn_gate: 'ffn_gate', ffn_up: 'ffn_up', ffn_down: 'ffn_down' };

export function f32Matrix(data: Float32Array, rows: number, cols: number): WeightMatrix {
  return { type: 0, rows, cols, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** `model` with some matrices / vectors replaced (GGUF names). */
export function withWeights(model: ModelWeights, matrices: Map<string, WeightMatrix>, vectors = new Map<string, Float32Array>()): ModelWeights {
  return {
    ...model,
    matrix: async (n) => matrices.get(n) ?? model.matrix(n),
    vector: async (n) => vectors.get(n) ?? model.vector(n),
  };
}

/** The model as the calibrated layers' codes decode (fake-quantized weights, changed norms and biases). */
export function quantizedModel(model: ModelWeights, layers: { layer: number; quantized: Map<BlockModule, QuantizedMatrix>; vectors?: Map<string, Float32Array> }[]): ModelWeights {
  const matrices = new Map<string, WeightMatrix>();
  const vectors = new Map<string, Float32Array>();
  for (const l of layers) {
    for (const [m, q] of l.quantized) matrices.set(blockTensor(l.layer, `${MATRIX_NAME[m]}.weight`), f32Matrix(dequantizeRows(q), q.rows, q.cols));
    for (const [k, v] of l.vectors ?? []) vectors.set(blockTensor(l.layer, k.includes('.') ? k : `${k}.weight`), v);
  }
  return withWeights(model, matrices, vectors);
}

/** llama-perplexity over `text` (BOS per chunk, second half of each chunk scored), all chunks in one pass. */
export async function perplexity(model: ModelWeights, text: string, nCtx: number, engine: MatmulEngine): Promise<number> {
  const bos = addsBos(model);
  const t = await llamaTokenizer(model, text);
  const tokens = bos >= 0 ? Int32Array.of(bos, ...t) : t;
  const nChunks = Math.floor(tokens.length / nCtx);
  const batch = tokens.slice(0, nChunks * nCtx);
  if (bos >= 0) for (let s = 0; s < nChunks; s++) batch[s * nCtx] = bos;
  const ctx: ForwardContext = { engine };
  const gen = runDecoder(model, { tokens: batch, nSeq: nChunks, nTok: nCtx }, ctx);
  let step = await gen.next();
  while (!step.done) step = await gen.next();
  const head = await OutputHead.load(model);
  const logits = new Float32Array(nCtx * head.nVocab);
  const acc = new PerplexityAccumulator();
  for (let s = 0; s < nChunks; s++) {
    await head.logits(step.value, s, nCtx, ctx, logits);
    for (let j = nCtx / 2; j < nCtx - 1; j++) acc.add(logits.subarray(j * head.nVocab, (j + 1) * head.nVocab), head.nVocab, tokens[s * nCtx + j + 1]!);
  }
  return acc.result().ppl;
}

export type { LayerWeights };
