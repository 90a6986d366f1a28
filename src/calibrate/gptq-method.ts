/**
 * GPTQ as a per-layer method of the calibration loop (AutoGPTQ `_base.quantize`, reference §3.1):
 * for each subset of the layer's linears — with true_sequential `[k, v, q]`, `[o]`, `[up, gate]`,
 * `[down]`, otherwise all seven at once — run the block over every sample with the subsets before
 * it already quantized, accumulate each module's H from its inputs exactly as `add_batch`
 * (gptq-hessian.ts), `fasterquant` each module (gptq-solver.ts) and substitute the fake-quantized
 * Q for its weight. The quantized block then makes the next layer's inputs.
 *
 * Modules of a subset that read the same input (q/k/v; gate/up) get the same H upstream (their
 * hooks see the same tensor), so one H is accumulated per distinct input.
 */
import { CancelledError, ValidationError } from '../../formats/errors.ts';
import { addProduct, beginBatch, createHessian, type GptqHessian } from '../../kernels/groupwise/gptq-hessian.ts';
import type { MatmulEngine } from '../../kernels/forward/index.ts';
import { gptqFasterquant } from '../../kernels/groupwise/gptq-solver.ts';
import type { QuantizedMatrix } from '../../kernels/groupwise/spec.ts';
import type { LayerWeights } from '../model/layer-weights.ts';
import type { ModuleLoss } from '../pipeline/calib-report.ts';
import type { BlockModule, LayerContext, LayerMethod, LayerResult } from './layer-method.ts';
import { MODULE_FIELD, matrixValues } from './loop.ts';

export interface GptqMethodOptions {
  /** Default 0.01 (AutoGPTQ BaseQuantizeConfig). */
  dampPercent?: number;
  /** Default true. */
  trueSequential?: boolean;
  staticGroups?: boolean;
  /** Lazy-batch block size (128). */
  blockSize?: number;
}

/** AutoGPTQ's `inside_layer_modules` for Llama/Qwen2, in GGUF names. */
export const TRUE_SEQUENTIAL: BlockModule[][] = [['attn_k', 'attn_v', 'attn_q'], ['attn_output'], ['ffn_up', 'ffn_gate'], ['ffn_down']];
const ALL_AT_ONCE: BlockModule[][] = [['attn_k', 'attn_v', 'attn_q', 'attn_output', 'ffn_up', 'ffn_gate', 'ffn_down']];

/** The order the block runs its matmuls in (to know where a subset's pass may stop). */
const FORWARD_ORDER: BlockModule[] = ['attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_gate', 'ffn_up', 'ffn_down'];

/** Modules that read the same activations share an H. */
const INPUT_OF: Record<BlockModule, string> = {
  attn_q: 'attn_in', attn_k: 'attn_in', attn_v: 'attn_in', attn_output: 'attn_out_in', ffn_gate: 'ffn_in', ffn_up: 'ffn_in', ffn_down: 'down_in',
};

/** HF module names, for messages. */
const HF_NAME: Record<BlockModule, string> = {
  attn_q: 'self_attn.q_proj', attn_k: 'self_attn.k_proj', attn_v: 'self_attn.v_proj', attn_output: 'self_attn.o_proj',
  ffn_gate: 'mlp.gate_proj', ffn_up: 'mlp.up_proj', ffn_down: 'mlp.down_proj',
};

/**
 * add_batch for `batch` sequences of inputs `x` (nTokens × cols): the running average, then
 * H += XsᵀXs with Xs = sqrt(2/n)·x, the product on the matmul engine (float32, as torch's H).
 */
export async function accumulate(engine: MatmulEngine, h: GptqHessian, x: Float32Array, nTokens: number, cols: number, batch: number): Promise<void> {
  const scale = beginBatch(h, batch);
  const xt = new Float32Array(cols * nTokens); // Xsᵀ: cols rows of nTokens
  for (let t = 0; t < nTokens; t++) {
    const o = t * cols;
    for (let c = 0; c < cols; c++) xt[c * nTokens + t] = x[o + c]! * scale;
  }
  const out = new Float32Array(cols * cols);
  await engine.matmul(xt, cols, { type: 0, rows: cols, cols: nTokens, data: new Uint8Array(xt.buffer) }, out);
  addProduct(h, out);
}

export const moduleOfTensor = (tensor: string): BlockModule => tensor.split('.')[2] as BlockModule;

export function gptqMethod(opts: GptqMethodOptions = {}): LayerMethod {
  const dampPercent = opts.dampPercent ?? 0.01;
  const subsets = (opts.trueSequential ?? true) ? TRUE_SEQUENTIAL : ALL_AT_ONCE;
  return {
    name: 'gptq',
    workingBytes({ nEmbd, nFf, qDim, kvDim }) {
      // H (float32) per distinct input of a subset, add_batch's float64 accumulator, and the
      // solver's float64 copies: H twice (H, permuted H; the Cholesky steps reuse at most 3 n²),
      // W twice (column-major and permuted) plus codes and Q of the largest module.
      const maxIn = Math.max(nEmbd, nFf, qDim);
      const maxRows = Math.max(qDim, kvDim, nEmbd, nFf);
      const hs = (opts.trueSequential ?? true) ? 4 * maxIn * maxIn : 4 * (3 * nEmbd * nEmbd + nFf * nFf);
      return hs + 8 * maxIn * maxIn + 5 * 8 * maxIn * maxIn + 2 * 8 * maxRows * maxIn + 5 * maxRows * maxIn;
    },
    async quantizeLayer(ctx: LayerContext): Promise<LayerResult> {
      const cur: LayerWeights = { ...ctx.weights };
      const quantized = new Map<BlockModule, QuantizedMatrix>();
      const modules: ModuleLoss[] = [];
      for (const subset of subsets) {
        const todo = subset.filter((m) => ctx.modules.has(m));
        if (!todo.length) continue;
        const hessians = new Map<string, GptqHessian>();
        const seenAt = new Map<string, number>();
        const stopAfter = FORWARD_ORDER.filter((m) => todo.includes(m)).at(-1)!;
        await ctx.forward({
          weights: cur, stopAfter, label: todo.join(','),
          observe: async (inp, range) => {
            const m = moduleOfTensor(inp.tensor);
            if (!todo.includes(m)) return;
            const key = INPUT_OF[m];
            if (seenAt.get(key) === range.start) return; // same activations as a module already seen
            seenAt.set(key, range.start);
            let h = hessians.get(key);
            if (!h) hessians.set(key, (h = createHessian(inp.cols)));
            await accumulate(ctx.engine, h, inp.x, inp.nTokens, inp.cols, range.count);
          },
        });
        for (const m of todo) {
          ctx.status(`solve ${m}`);
          if (ctx.signal?.aborted) throw new CancelledError();
          const t0 = performance.now();
          const h = hessians.get(INPUT_OF[m])!;
          const where = `layer ${ctx.layer} (model.layers.${ctx.layer}.${HF_NAME[m]}, blk.${ctx.layer}.${m})`;
          for (let i = 0; i < h.H.length; i++) {
            if (!Number.isFinite(h.H[i]!)) throw new ValidationError('CALIB_NON_FINITE', `${where}: the module's inputs are non-finite (its Hessian has ${h.H[i]}); the activations overflow float32 on the calibration text`);
          }
          const w = matrixValues(cur, m);
          let sol;
          try {
            sol = gptqFasterquant(w.values, w.rows, w.cols, h.H, ctx.spec, { dampPercent, staticGroups: opts.staticGroups, blockSize: opts.blockSize, nsamples: h.nsamples });
          } catch (e) {
            if (e instanceof RangeError && /positive definite/.test(e.message)) {
              throw new ValidationError('GPTQ_NOT_PD', `${where}: ${e.message} (now ${dampPercent}; try --damp-percent ${Math.min(1, dampPercent * 10)})`);
            }
            throw e;
          }
          const { dequantized, loss: _loss, avgLoss, ...q } = sol;
          cur[MODULE_FIELD[m]] = { type: 0, rows: w.rows, cols: w.cols, data: new Uint8Array(dequantized.buffer, dequantized.byteOffset, dequantized.byteLength) };
          quantized.set(m, q);
          modules.push({ module: m, tensor: `model.layers.${ctx.layer}.${HF_NAME[m]}`, loss: avgLoss, seconds: (performance.now() - t0) / 1000 });
          // yield to the event loop so progress reaches the printer between modules
          await new Promise((r) => setImmediate(r));
        }
      }
      return { next: cur, quantized, report: { modules } };
    },
  };
}
