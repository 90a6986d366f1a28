/**
 * Helpers of the calibration tests: run a `LayerMethod` over a model with the calibration loop and
 * collect its layers, build the model the quantized layers decode to, and measure perplexity
 * (llama-perplexity's rules) of a model whose weights are substituted in memory.
 */
import { runDecoder, OutputHead, type ForwardContext } from '../../src/model/forward.ts';
import { blockTensor, type LayerWeights } from '../../src/model/layer-weights.ts';
import type { ModelWeights, WeightMatrix } from '../../src/model/weights.ts';
import type { MatmulEngine } from '../../kernels/forward/index.ts';
import { calibrateModel as runLoop } from '../../src/calibrate/loop.ts';
import { PerplexityAccumulator } from '../../src/pipeline/eval-stats.ts';
import { addsBos, llamaTokenizer } from '../../src/pipeline/eval-plan.ts';
import { dequantizeRows } from '../../kernels/groupwise/dequantize.ts';
import type { QuantizedMatrix, GroupwiseSpec } from '../../kernels/groupwise/spec.ts';
import type { BlockModule, LayerMethod, LayerResult } from '../../src/calibrate/layer-method.ts';

export interface CalibratedLayer extends LayerResult {
  layer: number;
}

/** Runs `method` over every layer of `model` on the samples `tokens` (nSeq × nTok) with the calibration loop. */
export async function calibrateModel(model: ModelWeights, tokens: Int32Array, nSeq: number, nTok: number, method: LayerMethod, spec: GroupwiseSpec, modules: ReadonlySet<BlockModule>, engine: MatmulEngine): Promise<CalibratedLayer[]> {
  const out: CalibratedLayer[] = [];
  const steps = runLoop(model, { tokens, nSeq, nTok, source: 'test', seed: 0 }, method, { spec, modules: () => modules, engine, maxMemory: 2 ** 31 });
  for await (const s of steps) if (s.type === 'calibrated-layer') out.push({ layer: s.layer, ...s.result });
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
